// Proves: the wire rules over HTTP/2 (h2c and TLS): 102s as informational HEADERS frames, never late.
import type { FastifyReply } from 'fastify'
import { readFileSync } from 'node:fs'
import https from 'node:https'
import http2 from 'node:http2'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { outlivedRoute, serve, sleep, until, waiting } from './helpers.js'

const key = readFileSync(new URL('fixtures/key.pem', import.meta.url))
const cert = readFileSync(new URL('fixtures/cert.pem', import.meta.url))

interface H2Result { status: number, body: string, infos: http2.IncomingHttpHeaders[] }

/** One request on a new HTTP/2 session; `write`, if given, sends the request body and ends it. */
function h2 (
  authority: string,
  headers: http2.OutgoingHttpHeaders,
  write?: (stream: http2.ClientHttp2Stream) => void
): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, { ca: cert })
    session.on('error', reject)
    const stream = session.request(headers, { endStream: write === undefined })
    const infos: http2.IncomingHttpHeaders[] = []
    let status = 0
    let body = ''
    stream.on('headers', (h) => infos.push(h))
    stream.on('response', (h) => { status = Number(h[':status']) })
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => { body += chunk })
    stream.on('end', () => { session.close(); resolve({ status, body, infos }) })
    stream.on('error', reject)
    write?.(stream)
  })
}

const slowRoute = (sent: number) => async (_req: unknown, reply: FastifyReply) => {
  await until(() => reply.processingSent === sent, `${sent} 102s`)
  return { sent: reply.processingSent }
}

t.test('h2c: 102s as informational HEADERS frames, then the final response', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 30 }, (app) => {
    app.get('/slow', { config: { processing: true } }, slowRoute(2))
  }, { http2: true })
  // endStream: true puts END_STREAM on the HEADERS frame (stream.endAfterHeaders on the server).
  const res = await h2(`http://127.0.0.1:${port}`, { ':path': '/slow' })
  t.equal(res.status, 200)
  t.same(JSON.parse(res.body), { sent: 2 })
  t.same(res.infos.map((h) => h[':status']), [102, 102])
})

t.test('h2c: a GET whose END_STREAM comes in an empty DATA frame still gets its 102s', async (t) => {
  // Fastify never reads a GET body, so request.raw.complete stays false: the stream's remote close is
  // what shows the request is complete.
  const { port } = await serve(t, { threshold: 20, interval: 30 }, (app) => {
    app.get('/slow', { config: { processing: true } }, slowRoute(1))
  }, { http2: true })
  const res = await h2(`http://127.0.0.1:${port}`, { ':path': '/slow' }, (s) => s.end())
  t.same(res.infos.map((h) => h[':status']), [102])
  t.same(JSON.parse(res.body), { sent: 1 })
})

t.test('h2c: a slow upload gets its first 102 only after its last byte', async (t) => {
  let bodyDoneAt = 0
  let firstAt = 0
  const { port } = await serve(t, { threshold: 20, interval: 10_000 }, (app) => {
    app.post('/upload', { config: { processing: true } }, async (req, reply) => {
      await until(() => reply.processingSent === 1, 'one 102')
      firstAt = performance.now()
      return { bytes: (req.body as string).length }
    })
  }, { http2: true })
  const res = await h2(`http://127.0.0.1:${port}`, { ':path': '/upload', ':method': 'POST', 'content-type': 'text/plain' }, async (s) => {
    s.write('abc')
    await sleep(150)
    bodyDoneAt = performance.now()
    s.end('def')
  })
  t.same(JSON.parse(res.body), { bytes: 6 })
  t.same(res.infos.map((h) => h[':status']), [102])
  t.ok(firstAt >= bodyDoneAt, 'the 102 followed the last byte')
})

t.test('h2c: no 102 once the response headers are out (streamed body)', async (t) => {
  let reply!: FastifyReply
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/stream', { config: { processing: true } }, async (_req, r) => {
      reply = r
      await until(() => r.processingSent === 1, 'one 102')
      const body = new PassThrough()
      setTimeout(() => body.write('a'), 5)
      setTimeout(() => body.end('b'), 150)
      return r.send(body)
    })
  }, { http2: true })
  const res = await h2(`http://127.0.0.1:${port}`, { ':path': '/stream' })
  t.equal(res.body, 'ab')
  t.same(res.infos.map((h) => h[':status']), [102])
  t.equal(reply.processingSent, 1)
})

t.test('h2c: a stream the client resets stops the 102s and leaves no timer', async (t) => {
  let route!: ReturnType<typeof outlivedRoute>
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => { route = outlivedRoute(app, '/abort', 300) }, { http2: true })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.destroy())
  const stream = session.request({ ':path': '/abort' })
  stream.on('error', () => {})
  await new Promise<void>((resolve) => stream.once('headers', () => { stream.close(http2.constants.NGHTTP2_CANCEL); resolve() }))
  await until(() => route.closed, 'the server to see the reset')
  const atReset = route.reply.processingSent
  await sleep(80)
  t.equal(route.reply.processingSent, atReset)
  t.equal(await waiting(), 0)
})

t.test('HTTP/2 over TLS, and HTTP/1.1 over TLS on the same server (allowHTTP1)', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 30 }, (app) => {
    app.get('/slow', { config: { processing: true } }, slowRoute(2))
  }, { http2: true, https: { key, cert, allowHTTP1: true } })

  const res = await h2(`https://localhost:${port}`, { ':path': '/slow' })
  t.same(res.infos.map((h) => h[':status']), [102, 102], 'h2')
  t.same(JSON.parse(res.body), { sent: 2 })

  const infos: number[] = []
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: '/slow', ca: cert, servername: 'localhost', agent: false }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve(text))
    })
    req.on('information', (info) => infos.push(info.statusCode))
    req.on('error', reject)
  })
  t.same(infos, [102, 102], 'HTTP/1.1 over TLS')
  t.same(JSON.parse(body), { sent: 2 })
})
