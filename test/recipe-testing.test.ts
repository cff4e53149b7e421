// Proves: the "Testing your routes" recipe of docs/api.md works as written.
// The "Testing your routes" recipe of docs/api.md, run as written (only the import path differs): if the
// recipe stops working, this test fails.
import Fastify from 'fastify'
import t from 'tap'
import { request } from 'undici'
import processing from '../index.js'

t.test('recipe: inject() sees no 102s; a real listen() with undici onInfo does', async (t) => {
  const app = Fastify()
  await app.register(processing, { threshold: 50, interval: 50 })
  app.get('/report', { config: { processing: true } }, async (_request, reply) => {
    await new Promise((resolve) => setTimeout(resolve, 180))
    reply.processing({ progress: '1/1' })
    return { sent: reply.processingSent }
  })
  t.teardown(() => app.close())

  // inject() never opens a socket, so no 102 is ever written: the route still answers normally.
  const injected = await app.inject('/report')
  t.equal(injected.statusCode, 200)
  t.same(injected.json(), { sent: 0 }, 'inject(): the route answers, with no 102 sent')

  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const infos: Array<{ statusCode: number, headers: Record<string, string | string[]> }> = []
  const res = await request(`${address}/report`, { onInfo: (info) => infos.push(info) })
  t.equal(res.statusCode, 200)
  const body = await res.body.json() as { sent: number }
  t.ok(infos.length >= 2, `automatic 102s arrived (${infos.length})`)
  t.equal(body.sent, infos.length, 'the client got every 102 the route counted')
  t.ok(infos.every((info) => info.statusCode === 102), 'every interim is a 102')
  t.equal(infos.at(-1)?.headers.progress, '1/1', 'the manual 102 carried its header')
})
