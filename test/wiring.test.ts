// Proves: the wiring: one registration per context, one emitter per route, no 102 to an upgrade, typos said.
import Fastify, { type FastifyReply, type RouteOptions } from 'fastify'
import t from 'tap'
import fastifyProcessing from '../index.js'
import { captureLogs, rawExchange, request, serve, sleep, statusLines } from './helpers.js'

const slow = async (_req: unknown, reply: FastifyReply) => {
  await sleep(300)
  return { sent: reply.processingSent }
}

t.test('registering twice in one context is a coded error; a child context may register again', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(fastifyProcessing)
  app.register(fastifyProcessing, { limit: 1 })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_PROCESSING_ALREADY_REGISTERED', message: /already registered in this context/ })
  const ok = Fastify()
  t.teardown(() => ok.close())
  ok.register(fastifyProcessing)
  ok.register(async (child) => { child.register(fastifyProcessing, { limit: 1 }) })
  await t.resolves(async () => { await ok.ready() })
})

t.test('a plugin that wraps every route hook (as tracing plugins do) does not give a route two emitters', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 20, limit: 5 }, (app) => {
    // Registered after this plugin's root registration, like @fastify/otel.
    app.addHook('onRoute', (route: RouteOptions) => {
      for (const name of ['onRequest', 'onSend'] as const) {
        const hooks = route[name] as unknown
        if (hooks === undefined) continue
        const list = (Array.isArray(hooks) ? hooks : [hooks]) as Array<(...args: unknown[]) => unknown>
        route[name] = list.map((hook) => function wrapped (this: unknown, ...args: unknown[]) { return hook.apply(this, args) }) as never
      }
    })
    app.register(async (child) => {
      await child.register(fastifyProcessing, { threshold: 20, interval: 20, limit: 1 })
      child.get('/inner', { config: { processing: true } }, slow)
    })
    app.get('/outer', { config: { processing: true } }, slow)
  })
  const [inner, outer] = await Promise.all([request(port, '/inner'), request(port, '/outer')])
  t.same([inner.infos.length, JSON.parse(inner.body)], [1, { sent: 1 }], 'the innermost registration\'s limit: one emitter')
  t.same([outer.infos.length, JSON.parse(outer.body)], [5, { sent: 5 }], 'the root registration elsewhere')
})

t.test('a request that asks to switch protocols gets no 102, with global: true and from reply.processing()', async (t) => {
  const manual: boolean[] = []
  const { port } = await serve(t, { threshold: 20, interval: 20, global: true }, (app) => {
    app.get('/ws', { preValidation: async () => { await sleep(200) } }, async (_req, reply) => {
      manual.push(reply.processing())
      return 'no upgrade here'
    })
  })
  const upgrade = await rawExchange(port, (s) => s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'), (text) => text.includes('no upgrade here'))
  const plain = await rawExchange(port, (s) => s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  t.same(statusLines(upgrade), [200], 'the handshake got its final answer and nothing before it')
  t.same(statusLines(plain).at(-1), 200)
  t.ok(statusLines(plain).length > 1, 'the same route without Upgrade gets its 102s')
  t.same(manual, [false, true])
})

t.test('a config key one typo away from processing is said at startup, once per route', async (t) => {
  const { lines, logger } = captureLogs('warn')
  await serve(t, {}, (app) => {
    app.get('/typo', { config: { procesing: true } as never }, async () => 'ok')
    app.get('/case', { config: { Processing: true } as never }, async () => 'ok')
    app.get('/fine', { config: { processing: true, product: 1 } as never }, async () => 'ok')
  }, { logger })
  t.same(lines.filter((l) => l.code === 'FST_PROCESSING_MISSPELT').map((l) => [l.route, l.key]), [['GET /typo', 'procesing'], ['GET /case', 'Processing']])
})
