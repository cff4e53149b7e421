// Proves: beside @fastify/static, a file sent after slow work arrives byte-exact, and a Range request gets its 206.
import fastifyStatic from '@fastify/static'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, versionOf, WORK_MS } from './harness.js'

// matrix: @fastify/static
// A file sent after slow work (an export written to disk, then sent) arrives byte-exact after its 102s,
// a Range request gets its 206 with exactly the bytes asked for, and files the plugin was not asked about
// get no 102.

t.test(`@fastify/static ${versionOf('@fastify/static')}: byte-exact files and 206 ranges after 102s`, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'eco-static-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const blob = randomBytes(256 * 1024)
  writeFileSync(join(root, 'export.bin'), blob)
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    await app.register(fastifyStatic, { root, prefix: '/files/' })
    app.get('/export', { config: { processing: true } }, async (_request, reply) => {
      await sleep(WORK_MS)
      return reply.sendFile('export.bin')
    })
  })
  {
    const { client, res } = await exchange(port, http('GET', '/export'))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: blob, what: 'whole file' })
    t.equal(res.framing, 'content-length')
    await checkReuse(t, client, 'whole file')
  }
  {
    const { client, res } = await exchange(port, http('GET', '/export', { Range: 'bytes=1000-4999' }))
    checkResponse(t, res, { status: 206, interims: EXPECTED_102S, body: blob.subarray(1000, 5000), what: 'range' })
    t.equal(res.header('content-range'), `bytes 1000-4999/${blob.length}`)
    await checkReuse(t, client, 'range')
  }
  {
    const { client, res } = await exchange(port, http('GET', '/files/export.bin'))
    checkResponse(t, res, { status: 200, interims: 0, body: blob, what: 'plain static file' })
    await checkReuse(t, client, 'plain static file')
  }
})
