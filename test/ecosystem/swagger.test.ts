// Proves: beside @fastify/swagger, the OpenAPI document builds and response schemas serialize after the 102s.
import swagger from '@fastify/swagger'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/swagger
// The OpenAPI document is built from the routes, whose config this plugin extends: the document must come
// out whole, the opted-in route's response is still serialized by its schema after the 102s, and the
// document's own route gets none.

t.test(`@fastify/swagger ${versionOf('@fastify/swagger')}: the document builds, schemas serialize after 102s`, async (t) => {
  const { app, port } = await ecoServer(t, async (app) => {
    await app.register(swagger, { openapi: { info: { title: 'eco', version: '1.0.0' } } })
    await app.register(processing, { ...slow, global: true })
    app.get('/report', {
      schema: { response: { 200: { type: 'object', properties: { total: { type: 'integer' } } } } }
    }, slowly({ total: 42, secret: 'dropped by the response schema' }))
    app.get('/openapi.json', { config: { processing: false } }, async () => app.swagger())
  })
  {
    const { client, res } = await exchange(port, http('GET', '/report'))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: '{"total":42}', what: 'report' })
    await checkReuse(t, client, 'report')
  }
  {
    const { client, res } = await exchange(port, http('GET', '/openapi.json'))
    checkResponse(t, res, { status: 200, interims: 0, body: JSON.stringify(app.swagger()), what: 'document' })
    const document = JSON.parse(res.body.toString())
    t.same(Object.keys(document.paths).sort(), ['/openapi.json', '/ping', '/report'], 'every route is in the document')
    t.same(document.paths['/report'].get.responses['200'].content['application/json'].schema,
      { type: 'object', properties: { total: { type: 'integer' } } }, 'with its schema')
    await checkReuse(t, client, 'document')
  }
})
