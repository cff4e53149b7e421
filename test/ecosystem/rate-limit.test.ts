// Proves: beside @fastify/rate-limit, a 429 gets no 102 when the limiter is registered first; after, the 429 is still cleanly framed.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/rate-limit
// A request over the limit is refused before the handler runs. @fastify/rate-limit adds its hook to each
// route in onRoute, as this plugin does: registered first, its hook runs first, and a 429 comes alone even
// when finding the client's key takes longer than the threshold.

async function limited (app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    max: 1,
    timeWindow: 60_000,
    allowList: (request) => request.url === '/ping',
    keyGenerator: async (request) => {
      await sleep(300) // a key read from a slow store
      return request.headers['x-tenant'] as string
    }
  })
}

t.test(`@fastify/rate-limit ${versionOf('@fastify/rate-limit')}: 102s within the limit, none on the 429`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await limited(app)
    await app.register(processing, { ...slow, global: true })
    app.get('/work', slowly('done'))
  })
  const tenant = { 'X-Tenant': 'a' }
  {
    const { client, res } = await exchange(port, http('GET', '/work', tenant))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: 'done', what: 'within the limit' })
    await checkReuse(t, client, 'within the limit')
  }
  {
    const { client, res } = await exchange(port, http('GET', '/work', tenant))
    checkResponse(t, res, { status: 429, interims: 0, what: 'over the limit' })
    t.match(JSON.parse(res.body.toString()), { statusCode: 429 }, 'the 429 body is whole')
    t.ok(res.header('retry-after') !== undefined, 'with Retry-After')
    await checkReuse(t, client, 'over the limit')
  }
})

t.test('@fastify/rate-limit registered after this plugin: a slow refusal follows the 102s already sent, cleanly framed', async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await limited(app)
    app.get('/work', slowly('done'))
  })
  const tenant = { 'X-Tenant': 'b' }
  await exchange(port, http('GET', '/work', tenant)).then(({ client }) => client.end())
  const { client, res } = await exchange(port, http('GET', '/work', tenant))
  t.equal(res.status, 429)
  // The 102 timer started in this plugin's onRequest hook, before the slow key was found.
  t.ok(res.interims.length >= 1 && res.interims.every((i) => i.status === 102 && i.fields.length === 0),
    `the 429 follows ${res.interims.length} × 102: register rate limits before this plugin`)
  t.match(JSON.parse(res.body.toString()), { statusCode: 429 })
  await checkReuse(t, client, 'over the limit')
})
