// Proves: a hijacked reply gets its 102s before the hijack and none inside what the handler writes.
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, WORK_MS } from './harness.js'

// matrix: fastify
// A hijacked reply belongs to the handler: whatever it writes, on the response or on the socket, no 102
// may land inside it. Before the hijack, the route's 102s are due as on any other.

const text = 'hello, hijacked world'

t.test('reply.hijack(): 102s before the hijack, none inside what the handler writes', async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    // Slow work, then the handler takes the response over and streams it itself.
    app.get('/late', { config: { processing: true } }, async (_request, reply) => {
      await sleep(WORK_MS)
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'text/plain' })
      reply.raw.write(text.slice(0, 5))
      await sleep(400)
      reply.raw.end(text.slice(5))
    })
    // Hijacked at once, then raw bytes on the socket: the handler owns the wire from the first moment.
    app.get('/raw', { config: { processing: true } }, async (_request, reply) => {
      reply.hijack()
      const socket = reply.raw.socket!
      await sleep(WORK_MS)
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${text.length}\r\nContent-Type: text/plain\r\n\r\n${text.slice(0, 5)}`)
      await sleep(400)
      socket.write(text.slice(5))
    })
  })
  {
    const { client, res } = await exchange(port, http('GET', '/late'))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: text, what: 'hijacked after the work' })
    t.equal(res.framing, 'chunked')
    await checkReuse(t, client, 'hijacked after the work')
  }
  {
    const { client, res } = await exchange(port, http('GET', '/raw'))
    checkResponse(t, res, { status: 200, interims: 0, body: text, what: 'hijacked at once' })
    t.equal(client.pending.length, 0, 'nothing after the handler\'s bytes')
    client.end()
  }
})
