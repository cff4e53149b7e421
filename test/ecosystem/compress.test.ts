// Proves: beside @fastify/compress (gzip, br), the 102s stay bare and the encoded body decodes byte-exact.
import compress from '@fastify/compress'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/compress
// Compression wraps the final body in onSend: the 102s before it must stay bare (a Content-Encoding on an
// interim would tell the client to decode a body that does not exist), and the encoded body must decode
// to exactly what the handler returned.

const payload = JSON.stringify({ rows: Array.from({ length: 400 }, (_, i) => ({ i, name: `row ${i}` })) })

t.test(`@fastify/compress ${versionOf('@fastify/compress')}: gzip and br after 102s`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    await app.register(compress, { threshold: 0 })
    app.get('/report', { config: { processing: true } }, slowly(() => JSON.parse(payload)))
  })
  for (const [encoding, decode] of [['gzip', gunzipSync], ['br', brotliDecompressSync]] as const) {
    const { client, res } = await exchange(port, http('GET', '/report', { 'Accept-Encoding': encoding }))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, what: encoding })
    t.equal(res.header('content-encoding'), encoding, `${encoding}: the final response is encoded`)
    t.ok(decode(res.body).equals(Buffer.from(payload)), `${encoding}: the body decodes to exactly the payload`)
    await checkReuse(t, client, encoding)
  }
  // Without Accept-Encoding the same route answers in identity, still after its 102s.
  const { client, res } = await exchange(port, http('GET', '/report'))
  checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: payload, what: 'identity' })
  t.equal(res.header('content-encoding'), undefined)
  await checkReuse(t, client, 'identity')
})
