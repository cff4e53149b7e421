// Proves: a route that did not opt in gets no hook, an opted-in one exactly two; both exports are one.
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify'
import t from 'tap'
import processing, { fastifyProcessing } from '../index.js'
import { request, serve } from './helpers.js'

/** The hooks each route ends up with, seen by an onRoute hook registered after the plugin. */
async function routeHooks (withPlugin: boolean, options = {}): Promise<Map<string, RouteOptions>> {
  const app: FastifyInstance = Fastify()
  if (withPlugin) await app.register(processing, options)
  const seen = new Map<string, RouteOptions>()
  app.addHook('onRoute', (route) => { seen.set(`${String(route.method)} ${route.url}`, route) })
  const own = async (): Promise<void> => {}
  app.get('/plain', async () => 'ok')
  app.get('/own-hook', { onRequest: own, onSend: [own] }, async () => 'ok')
  app.get('/opted', { config: { processing: true }, onRequest: own }, async () => 'ok')
  app.get('/opted-out', { config: { processing: false } }, async () => 'ok')
  await app.ready()
  await app.close()
  return seen
}

function hookCount (value: unknown): number {
  if (value === undefined) return 0
  return Array.isArray(value) ? value.length : 1
}

t.test('routes that did not opt in carry exactly the hooks they had without the plugin', async (t) => {
  const without = await routeHooks(false)
  const withPlugin = await routeHooks(true)
  for (const name of ['GET /plain', 'HEAD /plain', 'GET /own-hook', 'GET /opted-out']) {
    for (const hook of ['onRequest', 'onSend', 'preValidation', 'onResponse', 'onRequestAbort'] as const) {
      t.same(withPlugin.get(name)?.[hook], without.get(name)?.[hook], `${name} ${hook}`)
    }
  }
})

t.test('an opted-in route gets exactly one more onRequest and onSend hook, after its own', async (t) => {
  const without = await routeHooks(false)
  const withPlugin = await routeHooks(true)
  for (const name of ['GET /opted', 'HEAD /opted']) {
    const before = without.get(name)
    const after = withPlugin.get(name)
    t.equal(hookCount(after?.onRequest), hookCount(before?.onRequest) + 1, `${name} onRequest`)
    t.equal(hookCount(after?.onSend), hookCount(before?.onSend) + 1, `${name} onSend`)
    t.equal(hookCount(after?.onResponse), hookCount(before?.onResponse), `${name} onResponse`)
    t.equal((after?.onRequest as Array<{ name: string }>)[0]!.name, 'own', `${name}: the route's own hook runs first`)
  }
})

t.test('global: true opts every route in, except config.processing === false', async (t) => {
  const seen = await routeHooks(true, { global: true })
  t.equal(hookCount(seen.get('GET /plain')?.onSend), 1)
  t.equal(hookCount(seen.get('GET /own-hook')?.onSend), 2)
  t.equal(hookCount(seen.get('GET /opted-out')?.onSend), 0)
})

t.test('a plain route gets no 102 on the wire, an opted-in one does', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 1000 }, (app) => {
    const slow = async (): Promise<string> => { await new Promise((resolve) => setTimeout(resolve, 150)); return 'done' }
    app.get('/plain', slow)
    app.get('/opted', { config: { processing: true } }, slow)
  })
  const plain = await request(port, '/plain')
  t.equal(plain.status, 200)
  t.equal(plain.infos.length, 0)
  const opted = await request(port, '/opted')
  t.equal(opted.status, 200)
  t.equal(opted.body, 'done')
  t.equal(opted.infos.length, 1)
})

t.test('the default export and the named export are one fastify-plugin function', async (t) => {
  t.equal(processing, fastifyProcessing)
  t.equal(typeof processing, 'function')
  const meta = (processing as unknown as Record<symbol, { name: string, fastify: string }>)[Symbol.for('plugin-meta')]
  t.equal(meta?.name, 'fastify-processing')
  t.equal(meta?.fastify, '5.x')
  t.equal((processing as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')], true)
})
