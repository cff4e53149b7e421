// One server for the throughput comparison; which variant is argv[2]. Every variant has the same route,
// answering at once (far below the threshold), so autocannon times only what happens around the handler.
//   baseline  no plugin (baseline2: the same, in a second process, for an A/A control)
//   plain     plugin registered, route not opted in
//   opted     plugin registered, route opted in (an emitter is armed, then disarmed in onSend)
//   naive     what users write by hand: a global onRequest that reads the route's config, a per-request
//             setInterval calling writeProcessing(), cleared in onResponse
import Fastify from 'fastify'
import processing from '../dist/index.js'

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
} else if (variant !== 'baseline' && variant !== 'baseline2') {
  throw new Error(`unknown variant ${variant}`)
}

const config = variant === 'opted' || variant === 'naive' ? { processing: true } : {}
app.get('/', { config }, () => ({ hello: 'world' }))

await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ type: 'listening', port: app.server.address().port })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
// CPU time of this process, read between two autocannon runs: a second view of the cost per request
// that a noisy neighbour disturbs less than req/s.
process.on('message', (msg) => {
  if (msg.cmd === 'cpu') {
    const { user, system } = process.cpuUsage()
    process.send({ type: 'cpu', us: user + system })
  }
})
