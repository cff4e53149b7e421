// Proves: on Fastify 5.7 (no handlerTimeout, no request.signal) the 102s flow and no deadline is assumed.
import type { FastifyInstance } from 'fastify'
import Fastify57 from 'fastify57'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import processing from '../index.js'
import { captureLogs, request, sleep } from './helpers.js'

// Fastify 5.0-5.7 have no handlerTimeout and no request.signal: the plugin detects them, and must work
// the same without them. This runs the real Fastify 5.7 (a devDependency alias), not a stub.

t.test('Fastify 5.7: 102s flow, no deadline is assumed, and request.signal is never touched', async (t) => {
  const { lines, logger } = captureLogs('debug')
  const app = Fastify57({ logger }) as unknown as FastifyInstance
  t.equal('handlerTimeout' in app.initialConfig, false, 'this Fastify has no handlerTimeout')
  await app.register(processing, { threshold: 20, interval: 20, limit: 3 })
  app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
    await sleep(200)
    return { sent: reply.processingSent }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const res = await request((app.server.address() as AddressInfo).port, '/slow')
  t.same([res.status, res.infos.length, JSON.parse(res.body)], [200, 3, { sent: 3 }])
  t.same(lines.filter((l) => l.route === 'GET /slow').map((l) => l.code), ['FST_PROCESSING_NO_DEADLINE'])
})

t.test('Fastify 5.7: a route that sets handlerTimeout (which 5.7 ignores) sends its 102s and never reads request.signal', async (t) => {
  const app = Fastify57() as unknown as FastifyInstance
  await app.register(processing, { threshold: 20, interval: 20, limit: 3 })
  // The "Never stuck" snippet of docs/options.md, as plain JavaScript would write it on any Fastify 5.
  const never = { handlerTimeout: 1500 } as object
  app.get('/slow', { ...never, config: { processing: true } }, async (_req, reply) => {
    await sleep(200)
    return { sent: reply.processingSent }
  })
  app.get('/manual', { ...never }, async (_req, reply) => ({ manual: reply.processing() }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  const [slow, manual] = await Promise.all([request(port, '/slow'), request(port, '/manual')])
  t.same([slow.status, slow.infos.length, JSON.parse(slow.body)], [200, 3, { sent: 3 }], 'no crash at the first 102')
  t.same([manual.status, JSON.parse(manual.body)], [200, { manual: true }], 'reply.processing() on a route that did not opt in: no 500')
})
