// Proves: the threshold counts from the request's arrival, so slow onRequest hooks don't delay the first 102.
import t from 'tap'
import { captureLogs, request, serve, sleep } from './helpers.js'

// The threshold counts from the request's arrival, not from the plugin's own route hook, which runs after
// every app-level and route-level onRequest hook: a slow auth hook must not push the first 102 back.

const routes = (app: import('fastify').FastifyInstance): void => {
  app.addHook('onRequest', async () => { await sleep(800) }) // a slow auth check
  app.get('/slow', { config: { processing: { threshold: 200, interval: 60_000 } } }, async () => {
    await sleep(300)
    return 'ok'
  })
}

t.test('with a logger (Fastify times the arrival), the first 102 is not pushed back by slow hooks', async (t) => {
  const { logger } = captureLogs('error')
  const { port } = await serve(t, {}, routes, { logger })
  const res = await request(port, '/slow')
  t.equal(res.infos.length, 1)
  // Due at 200 ms, while the hook still runs: it goes out as soon as the route's hooks start, right after
  // the 800 ms hook; counted from there it would be due at 1000 ms.
  const first = res.infos[0]?.at ?? 0
  t.ok(first >= 800 && first < 990, `first 102 at ${Math.round(first)} ms`)
})

t.test('without anything that times the arrival, it counts from the route hooks, as the README says', async (t) => {
  const { port } = await serve(t, {}, routes)
  const res = await request(port, '/slow')
  t.equal(res.infos.length, 1)
  const first = res.infos[0]?.at ?? 0
  t.ok(first >= 1000, `first 102 at ${Math.round(first)} ms`)
})
