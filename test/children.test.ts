// Proves: a child registration sets its own routes' defaults only; its bad options fail ready().
import type { FastifyInstance } from 'fastify'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import processing from '../index.js'
import { request, until } from './helpers.js'

// Registering the plugin again in a child context is how a user gives one part of an app other defaults.
// A second decorateReply would throw FST_ERR_DEC_ALREADY_PRESENT where `await app.ready()` cannot catch it.

/** Answers once the route has sent `n` 102s, or after `ms`, with how many it sent. */
function waitFor (n: number, ms = 400) {
  return async (_req: unknown, reply: import('fastify').FastifyReply) => {
    await until(() => reply.processingSent >= n, `${n} 102s`, ms).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 60))
    return { sent: reply.processingSent }
  }
}

async function listen (t: Test, app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return (app.server.address() as AddressInfo).port
}

t.test('a child registration sets the defaults of its own routes; the parent and siblings keep theirs', async (t) => {
  const app = Fastify()
  await app.register(processing, { threshold: 10, interval: 10, limit: 2 })
  app.get('/parent', { config: { processing: true } }, waitFor(99))
  await app.register(async (child) => {
    await child.register(processing, { threshold: 10, interval: 10, limit: 4 })
    child.get('/child', { config: { processing: true } }, waitFor(99))
    child.get('/child-own', { config: { processing: { limit: 3 } } }, waitFor(99))
    child.get('/child-plain', async (_req, reply) => ({ manual: reply.processing(), sent: reply.processingSent }))
  })
  await app.register(async (sibling) => {
    sibling.get('/sibling', { config: { processing: true } }, waitFor(99))
  })
  const port = await listen(t, app)
  const sent = async (path: string): Promise<[number, number]> => {
    const res = await request(port, path)
    return [res.infos.length, JSON.parse(res.body).sent]
  }
  t.same(await sent('/parent'), [2, 2], "the parent's route: the parent's limit")
  t.same(await sent('/child'), [4, 4], "the child's route: the child's limit, and one emitter, not two")
  t.same(await sent('/child-own'), [3, 3], 'a route setting its own limit in the child')
  t.same(await sent('/sibling'), [2, 2], "a sibling context: the parent's limit")
  const plain = await request(port, '/child-plain')
  t.same([plain.infos.length, JSON.parse(plain.body)], [1, { manual: true, sent: 1 }], 'reply.processing() on a child route that did not opt in')
})

t.test('global at each level: a child can turn it on or off for its own routes only', async (t) => {
  const app = Fastify()
  await app.register(processing, { threshold: 10, interval: 10, limit: 1, global: true })
  app.get('/root', waitFor(1))
  await app.register(async (off) => {
    await off.register(processing, { global: false })
    off.get('/off', waitFor(1, 150))
    off.get('/off-opted', { config: { processing: { threshold: 10, limit: 1 } } }, waitFor(1))
    await off.register(async (grandchild) => {
      await grandchild.register(processing, { threshold: 10, limit: 1, global: true })
      grandchild.get('/on-again', waitFor(1))
    })
  })
  const port = await listen(t, app)
  const count = async (path: string): Promise<number> => (await request(port, path)).infos.length
  t.equal(await count('/root'), 1, 'root: global')
  t.equal(await count('/off'), 0, 'child with global: false')
  t.equal(await count('/off-opted'), 1, 'an opted-in route in that child')
  t.equal(await count('/on-again'), 1, 'a grandchild with global: true again')
})

t.test('a bad option in a child registration is an error ready() can catch', async (t) => {
  const app = Fastify()
  await app.register(processing)
  app.register(async (child) => { await child.register(processing, { threshold: -1 }) })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_PROCESSING_INVALID_OPTION' })
})
