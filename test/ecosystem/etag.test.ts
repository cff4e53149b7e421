// Proves: beside @fastify/etag, a conditional request's 304 follows its 102s with no body, and the connection is reused.
import etag from '@fastify/etag'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/etag
// @fastify/etag hashes the payload in onSend, after the handler: a conditional request still runs the slow
// handler, so its 102s are due, and the 304 that follows has no body and keeps the connection usable.

const body = JSON.stringify({ prices: [1, 2, 3] })

t.test(`@fastify/etag ${versionOf('@fastify/etag')}: 200 with ETag, then a 304 after 102s`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    await app.register(etag)
    app.get('/prices', { config: { processing: true } }, slowly(() => JSON.parse(body)))
  })
  const first = await exchange(port, http('GET', '/prices'))
  checkResponse(t, first.res, { status: 200, interims: EXPECTED_102S, body, what: 'first' })
  const tag = first.res.header('etag')
  t.ok(tag, `an ETag: ${tag}`)
  await checkReuse(t, first.client, 'first')

  const { client, res } = await exchange(port, http('GET', '/prices', { 'If-None-Match': tag! }))
  checkResponse(t, res, { status: 304, interims: EXPECTED_102S, body: '', what: 'conditional' })
  t.equal(res.header('etag'), tag)
  await checkReuse(t, client, 'conditional')
})
