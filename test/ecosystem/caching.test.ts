// Proves: beside @fastify/caching, a cached 304 answered from its hook gets no 102, even from a slow store.
import caching, { type AbstractCacheCompliantObject } from '@fastify/caching'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/caching
// @fastify/caching answers a known ETag with a 304 from its onRequest hook, before the route's: that 304
// comes alone, even when the cache store takes longer than the threshold to answer.

const body = JSON.stringify({ catalogue: 'v1' })

t.test(`@fastify/caching ${versionOf('@fastify/caching')}: a cached 304 gets no 102`, async (t) => {
  // A remote store, as @fastify/caching's `cache` option takes one: every lookup takes longer than the threshold.
  type Key = { id: string, segment: string }
  const items = new Map<string, unknown>()
  const cache = {
    get: ({ id, segment }: Key, done: (err: null, cached: { item: unknown } | null) => void) => {
      setTimeout(() => done(null, items.has(`${segment}:${id}`) ? { item: items.get(`${segment}:${id}`) } : null), 300)
    },
    set: ({ id, segment }: Key, value: unknown, _ttl: number, done: (err: null) => void) => {
      items.set(`${segment}:${id}`, value)
      done(null)
    }
  } as unknown as AbstractCacheCompliantObject
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await app.register(caching, { privacy: 'private', expiresIn: 300, cache })
    app.get('/catalogue', async (_request, reply) => {
      const result = await slowly(() => JSON.parse(body))()
      reply.etag('catalogue-v1')
      return result
    })
  })
  const first = await exchange(port, http('GET', '/catalogue'))
  checkResponse(t, first.res, { status: 200, interims: EXPECTED_102S, body, what: 'first' })
  t.equal(first.res.header('etag'), 'catalogue-v1')
  await checkReuse(t, first.client, 'first')

  const { client, res } = await exchange(port, http('GET', '/catalogue', { 'If-None-Match': 'catalogue-v1' }))
  checkResponse(t, res, { status: 304, interims: 0, body: '', what: 'cached' })
  await checkReuse(t, client, 'cached')
})
