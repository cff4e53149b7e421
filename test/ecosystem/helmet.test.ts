// Proves: beside @fastify/helmet, its security headers go on the final response only.
import helmet from '@fastify/helmet'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/helmet
// Helmet sets its security headers in onRequest, on the reply: they must go out with the final response
// only, never on a 102 written before it.

const body = '<!doctype html><title>report</title><p>done</p>'

t.test(`@fastify/helmet ${versionOf('@fastify/helmet')}: bare 102s, security headers on the final response`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(helmet, { global: true })
    await app.register(processing, slow)
    app.get('/report', { config: { processing: true } }, async (_request, reply) => {
      reply.type('text/html; charset=utf-8')
      return slowly(body)()
    })
  })
  const { client, res } = await exchange(port, http('GET', '/report'))
  checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body, what: 'helmet' })
  for (const name of ['content-security-policy', 'x-frame-options', 'strict-transport-security', 'x-content-type-options']) {
    t.ok(res.header(name) !== undefined, `the final response has ${name}`)
  }
  await checkReuse(t, client, 'helmet')
})
