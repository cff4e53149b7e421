// One server for the throughput comparison; which variant is argv[2]. Every variant has the same route,
// answering at once (far below the threshold), so autocannon times only what happens around the handler.
//   baseline  no plugin (baseline2: the same, in a second process, for an A/A control)
//   plain     plugin registered, route not opted in
//   opted     plugin registered, route opted in (an emitter is armed, then disarmed in onSend)
//   alt       the shared-schedule prototype (bench/alt-emitter.js), route opted in
//   naive     what users write by hand: a global onRequest that reads the route's config, a per-request
//             setInterval calling writeProcessing(), cleared in onResponse
import Fastify from 'fastify'
import processing from '../dist/index.js'
import altProcessing from './alt-emitter.js'

const variant = process.argv[2]
const app = Fastify({ logger: false })

if (variant === 'plain' || variant === 'opted') {
  await app.register(processing, { threshold: 1000, interval: 1000 })
} else if (variant === 'naive') {
  app.decorateRequest('processingTimer', null)
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.processing) {
      request.processingTimer = setInterval(() => reply.raw.writeProcessing(), 1000)
    }
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    if (request.processingTimer !== null) clearInterval(request.processingTimer)
    done()
  })
} else if (variant === 'alt') {
  await app.register(altProcessing, { threshold: 1000, interval: 1000 })
} else if (variant === 'decorate') {
  // bench/breakdown.js: only what registering the plugin does to a route that is not opted in.
  app.decorateReply(Symbol('state'), null)
} else if (variant.startsWith('parts:')) {
  // bench/breakdown.js: the opted-in route's per-request work, piece by piece, without the plugin.
  const parts = new Set(variant.slice(6).split('+'))
  const kTimer = Symbol('timer')
  const noop = () => {}
  app.decorateReply(kTimer, null)
  app.addHook('onRoute', (route) => {
    if (route.config?.processing !== true) return
    route.onRequest = [(request, reply, done) => {
      if (parts.has('state')) reply[kTimer] = { sent: 0, timer: null, due: 0, gate: 0, stopped: false, request, reply, options: null, transport: null }
      if (parts.has('timer')) reply[kTimer] = setTimeout(noop, 1000, reply).unref()
      if (parts.has('close')) {
        const state = reply[kTimer]
        reply.raw.once('close', () => state)
      }
      if (parts.has('closeShared')) reply.raw.on('close', noop)
      if (parts.has('finishShared')) reply.raw.on('finish', noop)
      done()
    }]
    route.onSend = [(request, reply, payload, done) => {
      if (parts.has('timer')) clearTimeout(reply[kTimer])
      done(null, payload)
    }]
  })
} else if (variant !== 'baseline' && variant !== 'baseline2') {
  throw new Error(`unknown variant ${variant}`)
}

// What the route ends up with once every onRoute hook ran (the plugin adds its hooks in one): hooks at
// route level, plus the application's global ones.
let routeHooks = null
app.addHook('onRoute', (route) => {
  if (route.method !== 'GET' || route.url !== '/') return
  const count = (hooks) => hooks === undefined || hooks === null ? 0 : Array.isArray(hooks) ? hooks.length : 1
  routeHooks = { onRequest: count(route.onRequest), onSend: count(route.onSend) }
})

const config = ['opted', 'naive', 'alt'].includes(variant) || variant.startsWith('parts:') ? { processing: true } : {}
app.get('/', { config }, () => ({ hello: 'world' }))

await app.listen({ host: '127.0.0.1', port: 0 })
const globalHooks = variant === 'naive' ? { onRequest: 1, onResponse: 1 } : {}
process.send({ type: 'listening', port: app.server.address().port, routeHooks, globalHooks })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
// CPU time of this process, read between two autocannon runs: a second view of the cost per request
// that a noisy neighbour disturbs less than req/s.
process.on('message', (msg) => {
  if (msg.cmd === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ type: 'cpu', us: user + system })
  }
})
