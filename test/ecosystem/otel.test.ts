// Proves: beside @fastify/otel, which wraps route hooks, a child registration still owns its routes: one emitter, its limit.
import { FastifyOtelInstrumentation } from '@fastify/otel'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/otel
// A tracing plugin wraps every route hook in onRoute, this plugin's included. A child context that
// registers this plugin again must still take its routes over from the root registration: one emitter per
// route, with the innermost options (`limit: 1` here), whatever wraps the hooks in between.

t.test(`@fastify/otel ${versionOf('@fastify/otel')}: a child registration with limit: 1 owns its route through otel's wrappers`, async (t) => {
  const otel = new FastifyOtelInstrumentation({ registerOnInitialization: false })
  const { port } = await ecoServer(t, async (app) => {
    // The root registration would send up to 5.
    await app.register(processing, { threshold: 100, interval: 80, limit: 5 })
    await app.register(otel.plugin())
    await app.register(async (child) => {
      await child.register(processing, { ...slow, limit: 1 })
      child.get('/traced', { config: { processing: true } }, slowly('done'))
    })
    app.get('/root', { config: { processing: true } }, slowly('done'))
  })
  {
    const { client, res } = await exchange(port, http('GET', '/traced'))
    checkResponse(t, res, { status: 200, interims: 1, body: 'done', what: 'child route' })
    await checkReuse(t, client, 'child route')
  }
  {
    // A route of the root context keeps the root's options, through the same wrappers.
    const { client, res } = await exchange(port, http('GET', '/root'))
    checkResponse(t, res, { status: 200, interims: 5, body: 'done', what: 'root route' })
    await checkReuse(t, client, 'root route')
  }
})
