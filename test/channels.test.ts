// Proves: the diagnostics channels publish every 102 sent and every request refused them, with why.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { FastifyReply } from 'fastify'
import t from 'tap'
import type { SentMessage, WithheldMessage } from '../index.js'
import { request, serve, sleep } from './helpers.js'

const slow = async (_req: unknown, reply: FastifyReply) => {
  await sleep(200)
  return { sent: reply.processingSent }
}

t.test('fastify-processing:sent and :withheld count 102s and reasons per route', async (t) => {
  const sent: SentMessage[] = []
  const withheld: WithheldMessage[] = []
  const onSent = (m: unknown): void => { sent.push(m as SentMessage) }
  const onWithheld = (m: unknown): void => { withheld.push(m as WithheldMessage) }
  subscribe('fastify-processing:sent', onSent)
  subscribe('fastify-processing:withheld', onWithheld)
  t.teardown(() => {
    unsubscribe('fastify-processing:sent', onSent)
    unsubscribe('fastify-processing:withheld', onWithheld)
  })
  const { port } = await serve(t, { threshold: 10, interval: 10, limit: 3 }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow)
    app.get('/expect', { config: { processing: { requireExpect: true } } }, slow)
    app.get('/when', { config: { processing: { when: () => false } } }, slow)
    app.get('/budget', { config: { processing: { interimBytes: 64 } } }, async (_req, reply) => [reply.processing({ step: 'x'.repeat(40) })])
    app.get('/manual', async (_req, reply) => [reply.processing({ step: 1 })])
  })
  await request(port, '/slow')
  await request(port, '/slow', { headers: { 'x-forwarded-for': '1.2.3.4' } })
  await request(port, '/slow', { headers: { 'user-agent': 'python-requests/2.28.1' } })
  await request(port, '/slow', { headers: { 'user-agent': 'Go-http-client/1.1' } })
  await request(port, '/expect')
  await request(port, '/when')
  await request(port, '/budget')
  await request(port, '/manual')
  const bySent = sent.map((m) => [m.route, m.sent, m.manual, m.bytes])
  t.same(bySent.filter(([route]) => route === 'GET /slow').length, 6, 'three for the plain request, three for Go (its cap of 5 is above the limit)')
  t.same(bySent.find(([route]) => route === 'GET /manual'), ['GET /manual', 1, true, 28 + 'step'.length + 4 + 1])
  t.same(withheld.map((m) => [m.route, m.reason, m.detail]), [
    ['GET /slow', 'limit', null],
    ['GET /slow', 'proxy', 'x-forwarded-for'],
    ['GET /slow', 'peer', 'Python requests'],
    ['GET /slow', 'limit', null],
    ['GET /expect', 'requireExpect', null],
    ['GET /when', 'when', null],
    ['GET /budget', 'budget', '0 + 76 > 64']
  ], 'once per request, with the reason')
  t.ok(withheld.every((m) => m.request !== undefined && m.reply !== undefined), 'carries the request and reply, for per-route counts or a span event')
})
