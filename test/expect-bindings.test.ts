// `listen({ host: 'localhost' })` binds every address localhost resolves to, and Fastify starts one more
// server per extra address. `Expect: 102-processing` must get the same answer on each of them.
import dns from 'node:dns'
import net from 'node:net'
import Fastify from 'fastify'
import t from 'tap'
import processing from '../index.js'
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

t.test('every server Fastify starts for localhost lets Expect: 102-processing through', async (t) => {
  if (!await canBind('::1')) return t.skip('::1 cannot be bound on this machine')
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
  const addresses = app.addresses().map((a) => a.address).sort()
  t.same(addresses, ['127.0.0.1', '::1'], 'Fastify started a second server')
  const { port } = app.server.address() as net.AddressInfo

  for (const host of ['127.0.0.1', '::1']) {
    const text = await exchange(host, port, '/slow')
    t.same(statusLines(text), [102, 102, 200], `${host}: two 102s, then 200`)
    t.match(text, /\{"sent":2\}$/, `${host}: the route ran`)
  }
})
