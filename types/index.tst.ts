import Fastify, { type FastifyContextConfig, type FastifyPluginCallback, type FastifyReply } from 'fastify'
import { expect, test } from 'tstyche'
import processing, {
  fastifyProcessing,
  knownPaths,
  knownPeers,
  proxySigns,
  type Behind,
  type FastifyProcessingOptions,
  type PathName,
  type SentMessage,
  type WithheldMessage,
  type WithheldReason,
  type PeerRule,
  type ProcessingHeaders,
  type ProcessingRouteOptions
} from '../index.js'

const app = Fastify()

test('the plugin and its exports', () => {
  expect(processing).type.toBe(fastifyProcessing)
  expect(processing).type.toBeAssignableTo<FastifyPluginCallback<FastifyProcessingOptions>>()
  expect(app.register(processing)).type.not.toRaiseError()
  expect(app.register(processing, { threshold: 1000, interval: 5000, limit: 5, global: true })).type.not.toRaiseError()
  expect(app.register(processing, { requireExpect: true, when: (request) => request.headers['x-proxy'] === undefined })).type.not.toRaiseError()
})

test('plugin options are checked', () => {
  // The README quotes these messages; TypeScript 7 prints the same (scripts/check-package.js compiles with it).
  expect(app.register(processing, { threshold: '1000' })).type.toRaiseError(/^No overload matches this call\.[\s\S]*Type 'string' is not assignable to type 'number'\./)
  expect(app.register(processing, { interval: null })).type.toRaiseError()
  expect(app.register(processing, { requireExpect: 'yes' })).type.toRaiseError()
  expect(app.register(processing, { when: () => 'yes' })).type.toRaiseError()
})

test('config.processing on routes', () => {
  expect(app.get('/a', { config: { processing: true } }, async () => 'ok')).type.not.toRaiseError()
  expect(app.get('/b', { config: { processing: false } }, async () => 'ok')).type.not.toRaiseError()
  expect(app.post('/c', { config: { processing: { threshold: 200, interval: 2000, limit: 20 } } }, async () => 'ok')).type.not.toRaiseError()
  expect(app.route({ method: 'GET', url: '/d', config: { processing: { requireExpect: true, when: () => false } }, handler: async () => 'ok' })).type.not.toRaiseError()

  // Fastify intersects the route's inferred config with FastifyContextConfig, so an inline wrong type for
  // config.processing itself is reported as "not assignable to type 'never'"; `satisfies` gives the full
  // one. A wrong option inside it is reported on the option.
  expect(app.get('/e', { config: { processing: 'yes' } }, async () => 'ok')).type.toRaiseError("Type 'string' is not assignable to type 'never'")
  expect({ processing: 'yes' } satisfies FastifyContextConfig).type
    .toRaiseError("Type 'string' is not assignable to type 'boolean | (ProcessingRouteOptions & object)")
  expect(app.get('/f', { config: { processing: { threshold: '200' } } }, async () => 'ok')).type
    .toRaiseError(/Types of property 'threshold' are incompatible\.\s+Type 'string' is not assignable to type 'number'\./)
})

test('unknown keys in route config', () => {
  // Fastify infers each route's config type from its literal, which turns off excess-property checks
  // on inline configs (the runtime check still refuses them with FST_PROCESSING_UNKNOWN_OPTION).
  // A config typed as FastifyContextConfig or ProcessingRouteOptions is checked.
  expect<FastifyContextConfig>().type.not.toBeAssignableFrom({ processing: { treshold: 200 } })
  expect<FastifyContextConfig>().type.not.toBeAssignableFrom({ processing: { global: true } })
  expect<FastifyContextConfig>().type.not.toBeAssignableFrom({ processing: 'yes' })
  expect<FastifyContextConfig>().type.toBeAssignableFrom({ processing: { limit: 5 } })
  const shared: ProcessingRouteOptions = { threshold: 200 }
  expect(app.get('/g', { config: { processing: shared } }, async () => 'ok')).type.not.toRaiseError()
})

test('route options type', () => {
  expect<ProcessingRouteOptions>().type.toBeAssignableFrom({ threshold: 1, interval: 2, limit: 3 })
  expect<ProcessingRouteOptions>().type.not.toBeAssignableFrom({ global: true })
  expect<FastifyProcessingOptions>().type.toBeAssignableFrom({ global: true })
})

test('reply.processing and reply.processingSent', () => {
  app.get('/p', async (_request, reply) => {
    expect(reply.processing()).type.toBe<boolean>()
    expect(reply.processing({ progress: '42/100', step: 3, 'x-tags': ['a', 'b'] })).type.toBe<boolean>()
    expect(reply.processing({ step: [1, 2], 'x-mixed': ['a', 2] })).type.toBe<boolean>()
    expect(reply.processing({ progress: true })).type.toRaiseError()
    expect(reply.processing({ steps: [1, true] })).type.toRaiseError()
    expect(reply.processing({ steps: [[1]] })).type.toRaiseError()
    expect(reply.processing('progress: 1')).type.toRaiseError()
    expect(reply.processingSent).type.toBe<number>()
    expect(reply).type.not.toHaveProperty('processingCount')
    return 'ok'
  })
  expect<ProcessingHeaders>().type.toBeAssignableFrom({ progress: '1/2' })
  expect<FastifyReply['processing']>().type.toBe<(headers?: ProcessingHeaders) => boolean>()
})

test('peers: the known peers table and rules of your own', () => {
  expect(knownPeers).type.toBe<readonly PeerRule[]>()
  const mine: PeerRule = { name: 'Our proxy', match: (request) => request.headers.via === 'our-proxy', limit: 1, evidence: 'our own tests' }
  expect(app.register(processing, { peers: [...knownPeers, mine] })).type.not.toRaiseError()
  expect(app.register(processing, { peers: [] })).type.not.toRaiseError()
  expect(app.get('/peers', { config: { processing: { peers: knownPeers.filter((p) => p.limit > 0) } } }, async () => 'ok')).type.not.toRaiseError()
  expect<ProcessingRouteOptions>().type.toBeAssignableFrom({ peers: [mine] })

  expect(app.register(processing, { peers: mine })).type.toRaiseError()
  expect(app.register(processing, { peers: [{ name: 'no limit', match: () => true, evidence: 'none' }] })).type.toRaiseError()
  expect(app.register(processing, { peers: [{ ...mine, limit: '1' }] })).type.toRaiseError()
  expect(app.register(processing, { peers: [{ ...mine, match: () => 'yes' }] })).type.toRaiseError()
  // Evidence documents the built-in rows; a rule of your own may go without it.
  expect<PeerRule>().type.toBeAssignableFrom({ name: 'no evidence', match: () => true, limit: 1 })
  expect<PeerRule>().type.toBeAssignableFrom({ name: 'a proxy', match: () => true, limit: Infinity, adds: ['x-my-proxy'], path: 'haproxy' as const })
  expect<PeerRule>().type.not.toBeAssignableFrom({ name: 'a proxy', match: () => true, limit: Infinity, path: 'nginx-plus' as const })
  // The table is shared and frozen: it cannot be changed in place.
  expect(knownPeers).type.not.toHaveProperty('push')
})

test('behind: the path in front of the app, by name, rule or chain', () => {
  expect(app.register(processing, { behind: 'haproxy' })).type.not.toRaiseError()
  expect(app.register(processing, { behind: ['cloudflare', 'haproxy'] })).type.not.toRaiseError()
  expect(app.register(processing, { behind: (request) => request.headers['x-behind-nginx'] === undefined })).type.not.toRaiseError()
  expect(app.get('/b', { config: { processing: { behind: 'nothing', interimBytes: 8192 } } }, async () => 'ok')).type.not.toRaiseError()
  expect<Behind>().type.toBeAssignableFrom(['probed', () => true] as const)
  expect<PathName>().type.toBe<keyof typeof knownPaths>()
  expect(proxySigns).type.toBe<readonly string[]>()

  // Said by name: no 102 through nginx, Kong or ingress-nginx, and no warning.
  expect(app.register(processing, { behind: 'nginx' })).type.not.toRaiseError()
  expect(app.register(processing, { behind: ['cloudflare', 'ingress-nginx'] })).type.not.toRaiseError()
  expect(app.register(processing, { behind: 'varnish' })).type.toRaiseError()
  expect(app.register(processing, { behind: async () => true })).type.toRaiseError()
  expect(app.register(processing, { behind: () => 'yes' })).type.toRaiseError()
  expect(app.register(processing, { interimBytes: '16k' })).type.toRaiseError()
  expect(app.register(processing, { when: async () => true })).type.toRaiseError()
})

test('probe options', () => {
  expect(app.register(processing, { probe: { path: '/.well-known/processing-probe', token: 'a-secret-of-16+chars' } })).type.not.toRaiseError()
  expect(app.register(processing, { probe: { path: '/probe' } })).type.toRaiseError()
  expect(app.register(processing, { probe: true })).type.toRaiseError()
  expect<ProcessingRouteOptions>().type.not.toBeAssignableFrom({ probe: { path: '/p', token: 't' } })
})

test('diagnostics channel messages', () => {
  expect<SentMessage['sent']>().type.toBe<number>()
  expect<SentMessage['manual']>().type.toBe<boolean>()
  expect<WithheldMessage['reason']>().type.toBe<WithheldReason>()
  expect<WithheldReason>().type.toBeAssignableFrom('proxy' as const)
  expect<WithheldReason>().type.not.toBeAssignableFrom('nginx' as const)
})
