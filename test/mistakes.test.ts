// Proves: each silent mistake in declaring a route (processing as a route option, plugin options straight
// in config, routes declared before the plugin) is said at startup, coded, once per route.
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import fastifyProcessing from '../index.js'
import { captureLogs, request, serve } from './helpers.js'

const coded = (lines: Array<Record<string, unknown>>, code: string) => lines.filter((l) => l.code === code)

t.test('processing given as a route option, not in config, is said with the fix', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, { threshold: 50 }, (app) => {
    app.get('/x', { processing: true } as never, async () => new Promise((resolve) => setTimeout(resolve, 300, 'late')))
    app.get('/y', { processing: { limit: 2 } } as never, async () => 'ok')
    app.get('/fine', { config: { processing: true } }, async () => 'ok')
  }, { logger })
  t.equal((await request(port, '/x')).infos.length, 0, 'the mistake sends no 102, so the line is all there is')
  const said = coded(lines, 'FST_PROCESSING_ROUTE_OPTION')
  t.same(said.map((l) => l.route), ['GET /x', 'GET /y'], 'once per route, HEAD aside')
  t.match(said[0]?.msg, /route GET \/x has processing as a route option, .* \(\{ config: \{ processing: true \} \}\)$/)
  t.match(said[1]?.msg, /\(\{ config: \{ processing: \{ limit: 2 \} \} \}\)$/)
})

t.test('plugin options put straight into config are said, with where they go', async (t) => {
  const { lines, logger } = captureLogs('warn')
  await serve(t, {}, (app) => {
    app.get('/a', { config: { threshold: 100 } as never }, async () => 'ok')
    app.get('/b', { config: { processing: true, limit: 3, interval: 200 } as never }, async () => 'ok')
    app.get('/c', { config: { processing: { limit: 3 }, rateLimit: { max: 1 } } as never }, async () => 'ok')
  }, { logger })
  const said = coded(lines, 'FST_PROCESSING_OPTION_IN_CONFIG')
  t.same(said.map((l) => [l.route, l.keys]), [['GET /a', ['threshold']], ['GET /b', ['limit', 'interval']]])
  t.match(said[0]?.msg, /route GET \/a has config\.threshold, which the plugin reads only inside config\.processing: move it there \(\{ config: \{ processing: \{ threshold: 100 \} \} \}\)$/)
  t.match(said[1]?.msg, /has config\.limit, config\.interval, .* \(\{ config: \{ processing: \{ limit: 3, interval: 200 \} \} \}\)$/)
})

async function app (t: Test, build: (app: FastifyInstance) => Promise<void> | void): Promise<Array<Record<string, unknown>>> {
  const { lines, logger } = captureLogs('info')
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  await build(app)
  await app.ready()
  return coded(lines, 'FST_PROCESSING_ROUTES_BEFORE')
}

t.test('routes declared before the plugin is registered are said by the root registration', async (t) => {
  const before = await app(t, (app) => {
    // A plugin registered first declares its routes first; then, CommonJS without await: the
    // register() call runs after the routes below it.
    app.register(async (child) => { child.get('/c', async () => 'ok') }, { prefix: '/child' })
    app.register(fastifyProcessing)
    app.get('/early', { config: { processing: true } }, async () => 'ok')
    app.post('/early/:id', async () => 'ok')
    // Registered after the plugin: its routes are seen.
    app.register(async (child) => { child.get('/seen', async () => 'ok') })
  })
  t.equal(before.length, 1)
  t.equal(before[0]?.level, 30, 'at info: most routes declared first never wanted 102s')
  t.equal(before[0]?.routes, 3)
  t.match(before[0]?.msg, /^fastify-processing: 3 route\(s\) were declared before the plugin was registered \(GET \/early, POST \/early\/:id, GET \/child\/c\), so they get no 102s: if one should, register the plugin before the routes/)

  const many = await app(t, (app) => {
    for (let i = 0; i < 7; i++) app.get(`/r${i}`, async () => 'ok')
    app.register(fastifyProcessing)
  })
  t.match(many[0]?.msg, /\(GET \/r0, GET \/r1, GET \/r2, GET \/r3, GET \/r4, and 2 more\)/)

  t.same(await app(t, async (app) => {
    await app.register(fastifyProcessing)
    app.get('/late', { config: { processing: true } }, async () => 'ok')
  }), [], 'registered first: nothing to say')

  t.same(await app(t, async (app) => {
    app.get('/health', async () => 'ok')
    await app.register(async (child) => {
      await child.register(fastifyProcessing)
      child.get('/slow', { config: { processing: true } }, async () => 'ok')
    })
  }), [], 'a registration in a child context says nothing of the routes elsewhere')
})

t.test('where no line can be said, printRoutes({ includeHooks: true }) shows which routes the plugin took', async (t) => {
  const { app } = await serve(t, {}, (app) => {
    app.get('/taken', { config: { processing: true } }, async () => 'ok')
    app.get('/plain', async () => 'ok')
  })
  const tree = app.printRoutes({ includeHooks: true, commonPrefix: false })
  const taken = tree.slice(tree.indexOf('/taken (GET)'), tree.indexOf('/plain (GET)'))
  t.match(taken, /• \(onRequest\) \["fastifyProcessingOnRequest\(\)"\]/)
  t.notMatch(tree.slice(tree.indexOf('/plain (GET)')), /fastifyProcessing/)
})
