// Proves: beside @fastify/multipart, no 102 before the last body byte, and Expect: 100-continue gives 100, then 102s, then 200.
import multipart from '@fastify/multipart'
import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import processing from '../../index.js'
import { checkReuse, Client, ecoServer, sleep, slow, until, versionOf, WORK_MS } from './harness.js'

// matrix: @fastify/multipart
// A 102 says the whole request was received: none may go while an upload is still arriving, however long
// it takes. With `Expect: 100-continue`, the 100 comes first, then the body, then 102s, then the answer.

const file = randomBytes(64 * 1024)
const boundary = '----eco' + randomBytes(8).toString('hex')
const body = Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="data.bin"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n'),
  file,
  Buffer.from(`\r\n--${boundary}--\r\n`)
])
const expected = JSON.stringify({ size: file.length, sha256: createHash('sha256').update(file).digest('hex') })

function head (extra = ''): string {
  return `POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
    `Content-Length: ${body.length}\r\n${extra}\r\n`
}

t.test(`@fastify/multipart ${versionOf('@fastify/multipart')}: no 102 before the last body byte; 100, then 102s, then 200`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    await app.register(multipart)
    app.post('/upload', { config: { processing: true } }, async (request) => {
      const part = await request.file()
      const data = await part!.toBuffer()
      await sleep(WORK_MS)
      return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') }
    })
  })

  {
    const client = await Client.connect(port)
    client.write(head())
    client.write(body.subarray(0, body.length >> 1))
    // Longer than the threshold and an interval: a 102 would be due now if the upload were ignored.
    await sleep(400)
    t.equal(client.transcript, '', 'nothing is written back while the upload is incomplete')
    client.write(body.subarray(body.length >> 1))
    const res = await client.read()
    t.ok(res.interims.length >= 1 && res.interims.length <= 2 && res.interims.every((i) => i.status === 102 && i.fields.length === 0),
      `bare 102s once the upload is whole: ${res.interims.length}`)
    t.same([res.status, res.body.toString()], [200, expected], 'the upload arrived byte-exact')
    await checkReuse(t, client, 'slow upload')
  }
  {
    const client = await Client.connect(port)
    client.write(head('Expect: 100-continue\r\n'))
    await until(() => client.transcript.includes('\r\n\r\n'), 'the 100 Continue')
    t.match(client.transcript, /^HTTP\/1\.1 100 Continue\r\n/, '100 Continue first, and nothing else before the body')
    client.write(body)
    const res = await client.read()
    t.same(res.interims.map((i) => i.status), [100, 102, 102], '100, then 102s')
    t.same([res.status, res.body.toString()], [200, expected], 'then the 200, byte-exact')
    await checkReuse(t, client, 'Expect: 100-continue')
  }
})
