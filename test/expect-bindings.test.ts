// Proves: every server Fastify starts for localhost lets `Expect: 102-processing` through.
// `listen({ host: 'localhost' })` binds every address localhost resolves to, and Fastify starts one more
// server per extra address. `Expect: 102-processing` must get the same answer on each of them.
import dns from 'node:dns'
import { EventEmitter } from 'node:events'
import net from 'node:net'
import Fastify from 'fastify'
import t from 'tap'
import processing from '../index.js'
import { acceptOnEveryServer } from '../lib/expect.js'
import { statusLines, until } from './helpers.js'

const canBind = (host: string): Promise<boolean> => new Promise((resolve) => {
  const server = net.createServer()
  server.once('error', () => resolve(false))
  server.listen(0, host, () => server.close(() => resolve(true)))
})

function exchange (host: string, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const socket = net.connect(port, host, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nExpect: 102-processing\r\nConnection: close\r\n\r\n`)
    })
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
  })
}

const noIPv6 = await canBind('::1') ? false : '::1 cannot be bound on this machine'

t.test('every server Fastify starts for localhost lets Expect: 102-processing through', { skip: noIPv6 }, async (t) => {
  const resolved = await dns.promises.lookup('localhost', { all: true })
  if (!resolved.some((a) => a.address === '::1')) {
    // Many hosts files map localhost to 127.0.0.1 only, and then Fastify starts a single server. The
    // resolver is made to answer as on a dual-stack host; the two servers and the sockets stay real.
    const lookup = dns.lookup
    dns.lookup = ((host: string, options: unknown, callback: (...args: unknown[]) => void) => {
      if (host !== 'localhost' || typeof callback !== 'function') return (lookup as (...a: unknown[]) => unknown)(host, options, callback)
      callback(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }])
    }) as typeof dns.lookup
    t.teardown(() => { dns.lookup = lookup })
  }

  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(processing, { threshold: 10, interval: 20 })
  app.get('/slow', { config: { processing: true } }, async (_request, reply) => {
    await until(() => reply.processingSent === 2, 'two 102s')
    return { sent: reply.processingSent }
  })
  await app.listen({ port: 0, host: 'localhost' })
  const addresses = app.addresses().map((a) => (a as net.AddressInfo).address).sort()
  t.same(addresses, ['127.0.0.1', '::1'], 'Fastify started a second server')
  const { port } = app.server.address() as net.AddressInfo

  for (const host of ['127.0.0.1', '::1']) {
    const text = await exchange(host, port, '/slow')
    t.same(statusLines(text), [102, 102, 200], `${host}: two 102s, then 200`)
    t.match(text, /\{"sent":2\}$/, `${host}: the route ran`)
  }
})

t.test('servers that cannot be reached are named in a coded warning', async (t) => {
  const warnings: Array<Record<string, unknown>> = []
  const log = { warn: (data: Record<string, unknown>) => { warnings.push(data) } }
  const server = (): EventEmitter => new EventEmitter()
  const listens = (...addresses: string[]) => () => addresses

  // No binding list at all: what a Fastify that renamed it would look like.
  const main = server()
  acceptOnEveryServer({ server: main as never, addresses: listens('127.0.0.1', '::1'), log })
  t.equal(main.listenerCount('checkExpectation'), 1, 'the main server still gets the listener')
  t.match(warnings, [{ code: 'FST_PROCESSING_EXPECT_UNREACHED', addresses: ['127.0.0.1', '::1'] }])

  // A list under that name that is not an array is not trusted.
  warnings.length = 0
  acceptOnEveryServer({ server: server() as never, addresses: listens('127.0.0.1', '::1'), log, [Symbol('fastify.serverBindings')]: {} } as never)
  t.equal(warnings.length, 1, 'warned when the list is not an array')

  // Found on a prototype, as from a child context: every server reached, nothing to say.
  warnings.length = 0
  const second = server()
  const root = { server: server(), addresses: listens('127.0.0.1', '::1'), log, [Symbol('fastify.serverBindings')]: [second] }
  acceptOnEveryServer(Object.create(root))
  t.equal(second.listenerCount('checkExpectation'), 1, 'the second server gets the listener')
  t.same(warnings, [], 'no warning when every server was reached')
})
