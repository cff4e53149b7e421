// The server of the fast-path benchmark: ONE process, every variant a route of the same app, so every
// variant shares the process's JIT state, memory layout, CPU placement and neighbours. Each route
// answers `{ hello: 'world' }` at once, far below the plugin's threshold.
//   /none        root scope, no plugin (and /none2, its twin: the A/A control)
//   /registered  the plugin's scope, route not opted in
//   /opted       the plugin's scope, opted in with the default options
//   /hooks       root scope, a no-op route-level onRequest and onSend
//   /hooksclose  the same, plus one shared 'close' listener on reply.raw: the least the plugin's shape
//                (per-route hooks that must see every end of the response) can cost
//   /naive       what users write by hand, in its own encapsulated scope: a hook on every request of
//                that scope starting a setInterval that calls writeProcessing(), cleared on onSend/close
// argv[2] (optional, comma-separated): serve only these routes, for bench/callgrind.js. Two more are
// served only when argv[2] names them, since a longer path costs more to parse and
// route: twins whose paths are as long as the plugin's routes'.
//   /plainroute  /none under a name as long as /registered
//   /floor       /hooksclose under a name as long as /opted
// The parent asks for process.cpuUsage() around each run ({cmd: 'cpu'} -> {type: 'cpu', us}), and
// bench/callgrind.js for a minor GC before each counted batch ({cmd: 'gc'} -> {type: 'gc'}, with
// --expose-gc), so every batch starts from an empty young generation.
import Fastify from 'fastify'
import processing from '../dist/index.js'

export const ROUTES = ['none', 'none2', 'registered', 'opted', 'hooks', 'hooksclose', 'naive']

const only = process.argv[2] ? new Set(process.argv[2].split(',')) : new Set(ROUTES)
const app = Fastify({ logger: false })
const body = () => ({ hello: 'world' })
const noopRequest = (request, reply, done) => done()
const noopSend = (request, reply, payload, done) => done(null, payload)
const noop = () => {}

if (only.has('none')) app.get('/none', body)
if (only.has('none2')) app.get('/none2', body)
if (only.has('hooks')) app.get('/hooks', { onRequest: noopRequest, onSend: noopSend }, body)
if (only.has('plainroute')) app.get('/plainroute', body)
for (const name of ['hooksclose', 'floor'].filter((n) => only.has(n))) {
  app.get(`/${name}`, {
    onRequest: (request, reply, done) => { reply.raw.on('close', noop); done() },
    onSend: noopSend
  }, body)
}
if (only.has('registered') || only.has('opted')) {
  await app.register(async (scope) => {
    await scope.register(processing)
    if (only.has('registered')) scope.get('/registered', body)
    if (only.has('opted')) scope.get('/opted', { config: { processing: true } }, body)
  })
}
if (only.has('naive')) {
  await app.register(async (scope) => {
    const kTimer = Symbol('timer')
    scope.decorateReply(kTimer, null)
    scope.addHook('onRequest', (request, reply, done) => {
      const timer = setInterval(() => reply.raw.writeProcessing(), 1000)
      reply[kTimer] = timer
      reply.raw.once('close', () => clearInterval(timer))
      done()
    })
    scope.addHook('onSend', (request, reply, payload, done) => {
      clearInterval(reply[kTimer])
      done(null, payload)
    })
    scope.get('/naive', body)
  })
}

await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ type: 'listening', port: app.server.address().port })
process.on('message', (msg) => {
  if (msg.cmd === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ type: 'cpu', us: user + system })
  } else if (msg.cmd === 'gc') {
    globalThis.gc?.({ type: 'minor' })
    process.send({ type: 'gc' })
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})
