// Proves: the HTTP/1.1 wire rules: when a 102 may go, when it never does, and no timer left behind.
import type { FastifyReply } from 'fastify'
import http from 'node:http'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { scheduler } from '../lib/emitter.js'
import { abandonedRequest, liveTimers, outlivedRoute, rawExchange, request, serve, sleep, statusLines, until, waiting } from './helpers.js'

const GET = (path: string, version = '1.1'): string => `GET ${path} HTTP/${version}\r\nHost: x\r\n\r\n`

t.test('first 102 at threshold, then one per interval, each before the final response', async (t) => {
  const { port } = await serve(t, { threshold: 100, interval: 150 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 3, 'three 102s')
      return { sent: reply.processingSent }
    })
  })
  const res = await request(port, '/slow')
  t.equal(res.status, 200)
  t.same(JSON.parse(res.body), { sent: 3 })
  t.same(res.infos.map((i) => i.status), [102, 102, 102])
  // Lower bounds only: a timer can be late on a busy machine, never early.
  t.ok(res.infos[0]!.at >= 95, `first 102 after the threshold (${res.infos[0]!.at} ms)`)
  // Scheduled from when the first was due, not from when it went out: a late first 102 does not push the
  // rest back (the gaps stay even), so the bound is from the start too.
  t.ok(res.infos[1]!.at >= 245, `second at threshold + 1 interval (${res.infos[1]!.at} ms)`)
  t.ok(res.infos[2]!.at >= 395, 'third at threshold + 2 intervals')
  t.ok(res.at >= res.infos[2]!.at, 'final response last')
})

t.test('a route answering before the threshold gets no 102, and leaves no timer', async (t) => {
  const { port } = await serve(t, { threshold: 200 }, (app) => {
    app.get('/fast', { config: { processing: true } }, async () => 'fast')
  })
  const res = await request(port, '/fast')
  t.equal(res.body, 'fast')
  t.equal(res.infos.length, 0)
  t.equal(await waiting(), 0, 'onSend took it out of the schedule')
})

t.test('limit caps the 102s of one request; the route value overrides the plugin value', async (t) => {
  const { port } = await serve(t, { threshold: 10, interval: 10, limit: 50 }, (app) => {
    app.get('/capped', { config: { processing: { limit: 2 } } }, async (_req, reply) => {
      await until(() => reply.processingSent === 2, 'two 102s')
      await sleep(100) // ten more intervals in which nothing may be sent
      return String(reply.processingSent)
    })
  })
  const res = await request(port, '/capped')
  t.equal(res.body, '2')
  t.equal(res.infos.length, 2)
})

t.test('no 102 to an HTTP/1.0 client', async (t) => {
  let sent = -1
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await sleep(150)
      sent = reply.processingSent
      return 'done'
    })
  })
  const text = await rawExchange(port, (s) => s.write(GET('/slow', '1.0')))
  t.same(statusLines(text), [200])
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/)
  t.match(text, /done$/)
  t.equal(sent, 0)
})

t.test('a slow upload gets its first 102 only after its last byte', async (t) => {
  const { port } = await serve(t, { threshold: 30, interval: 10_000 }, (app) => {
    app.post('/upload', { config: { processing: true } }, async (req, reply) => {
      await until(() => reply.processingSent === 1, 'a 102 after the body')
      return { bytes: (req.body as string).length }
    })
  })
  let lastByteAt = 0
  const text = await rawExchange(port, async (socket) => {
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n\r\nabc')
    await sleep(200) // far past the threshold, with half the body still to come
    lastByteAt = performance.now()
    socket.write('def')
  })
  t.same(statusLines(text), [102, 200])
  t.match(text, /\{"bytes":6\}$/)
  t.ok(lastByteAt > 0)
})

t.test('after a late first 102 (slow upload), the next one waits a whole interval: no catch-up burst', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 60 }, (app) => {
    app.post('/upload', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 2, 'two 102s')
      return 'ok'
    })
  })
  let firstAt = 0
  let secondAt = 0
  await rawExchange(port, async (socket) => {
    socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\na')
    await sleep(300) // five intervals late
    socket.write('b')
  }, (text) => {
    const count = statusLines(text).length
    if (count >= 1 && firstAt === 0) firstAt = performance.now()
    if (count >= 2 && secondAt === 0) secondAt = performance.now()
    return false
  })
  t.ok(secondAt - firstAt >= 55, `second 102 an interval after the first (${Math.round(secondAt - firstAt)} ms)`)
})

t.test('a streamed body: no 102 once its headers are out, even while 102s are due', async (t) => {
  let reply!: FastifyReply
  const { port } = await serve(t, { threshold: 20, interval: 20 }, (app) => {
    app.get('/stream', { config: { processing: true } }, async (_req, r) => {
      reply = r
      await until(() => r.processingSent === 1, 'one 102')
      const body = new PassThrough()
      setTimeout(() => body.write('part1,'), 10)
      setTimeout(() => body.end('part2'), 200) // ten intervals with the headers out
      return r.header('content-type', 'text/plain').send(body)
    })
  })
  const text = await rawExchange(port, (s) => s.write(GET('/stream').replace('Host: x', 'Host: x\r\nConnection: close')))
  t.same(statusLines(text), [102, 200])
  t.match(text, /transfer-encoding: chunked/i)
  t.match(text, /part1,\r\n5\r\npart2\r\n0\r\n\r\n$/)
  t.equal(reply.processingSent, 1)
})

t.test('onSend disarms the emitter: nothing of ours waits while a long body streams', async (t) => {
  const during: number[] = []
  const { port } = await serve(t, { threshold: 10, interval: 5000 }, (app) => {
    app.get('/long', { config: { processing: true } }, async (_req, r) => {
      await until(() => r.processingSent === 1, 'one 102')
      const body = new PassThrough()
      setTimeout(async () => { during.push(await waiting()); body.end('x') }, 50)
      return r.send(body)
    })
  })
  const res = await request(port, '/long')
  t.equal(res.body, 'x')
  t.same(during, [0])
})

t.test('a streamed body that errors: the server survives, the connection ends, no timer is left', async (t) => {
  let reply!: FastifyReply
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/broken', { config: { processing: true } }, async (_req, r) => {
      reply = r
      await until(() => r.processingSent === 1, 'one 102')
      const body = new PassThrough()
      setTimeout(() => body.write('part,'), 5)
      setTimeout(() => body.destroy(new Error('disk gone')), 60)
      return r.send(body)
    })
    app.get('/ok', async () => 'still up')
  })
  const text = await rawExchange(port, (s) => s.write(GET('/broken')))
  t.same(statusLines(text), [102, 200])
  t.notMatch(text, /0\r\n\r\n$/, 'the chunked body was cut off, not finished')
  t.equal(reply.processingSent, 1)
  t.equal(await waiting(), 0)
  t.equal((await request(port, '/ok')).body, 'still up')
})

t.test('headers written straight to reply.raw stop the 102s', async (t) => {
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/raw', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 1, 'one 102')
      reply.raw.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' })
      reply.raw.flushHeaders()
      await sleep(100)
      reply.raw.end('done')
      return reply
    })
  })
  const text = await rawExchange(port, (s) => s.write(GET('/raw').replace('Host: x', 'Host: x\r\nConnection: close')))
  t.same(statusLines(text), [102, 200])
  t.match(text, /\r\n\r\ndone$/)
})

t.test('a hijacked reply gets no 102 after hijack()', async (t) => {
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/hijack', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 1, 'one 102')
      reply.hijack()
      await sleep(100)
      reply.raw.socket!.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nhijacked')
    })
  })
  const text = await rawExchange(port, (s) => s.write(GET('/hijack')))
  t.same(statusLines(text), [102, 200])
  t.match(text, /hijacked$/)
})

t.test('a handler that throws gets its error response, and no 102 after it', async (t) => {
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/boom', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 2, 'two 102s')
      throw new Error('boom')
    })
  })
  const res = await request(port, '/boom')
  t.equal(res.status, 500)
  t.equal(res.infos.length, 2)
  t.equal(await waiting(), 0)
})

t.test('a client that aborts stops the 102s at once and leaves no timer', async (t) => {
  let route!: ReturnType<typeof outlivedRoute>
  // A long interval: the next 102's timer is armed when the client leaves, and must be cleared then.
  const { port } = await serve(t, { threshold: 10, interval: 5000 }, (app) => { route = outlivedRoute(app, '/abort', 400) })
  await abandonedRequest(port, '/abort', (req) => req.on('information', () => req.destroy()))
  await until(() => route.closed, 'the server to see the abort')
  t.equal(await waiting(), 0, 'out of the schedule when the connection closed')
  const atAbort = route.reply.processingSent
  t.ok(atAbort >= 1)
  await sleep(100)
  t.equal(route.reply.processingSent, atAbort, 'nothing sent after the abort')
  t.equal(await waiting(), 0, 'while the handler still runs, nothing of ours waits')
})

t.test('a request that answers before its threshold costs no close listener; one that gets a 102 has one', async (t) => {
  // Listening for 'close' cost every opted-in request most of the plugin's work on the fast path (bench/
  // callgrind.js); onSend already stops a request that answers, so only a request with 102s listens.
  const counts = { plain: [] as number[], fast: [] as number[], slow: [] as number[] }
  const { port } = await serve(t, { threshold: 50, interval: 50 }, (app) => {
    app.get('/plain', async (_req, reply) => {
      counts.plain.push(reply.raw.listenerCount('close'))
      return 'plain'
    })
    app.get('/fast', { config: { processing: true } }, async (_req, reply) => {
      counts.fast.push(reply.raw.listenerCount('close'))
      return 'fast'
    })
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      counts.slow.push(reply.raw.listenerCount('close'))
      await until(() => reply.processingSent === 1, 'one 102')
      counts.slow.push(reply.raw.listenerCount('close'))
      return 'slow'
    })
  })
  for (const path of ['/plain', '/fast', '/slow']) t.equal((await request(port, path)).status, 200)
  t.same(counts.fast, counts.plain, 'an opted-in request that answers at once listens to nothing more than a plain one')
  t.same(counts.slow, [counts.plain[0], counts.plain[0]! + 1], 'one listener from its first 102 on')
  t.equal(await waiting(), 0)
})

t.test('a client that aborts before the threshold gets no 102, and its request leaves the schedule when it falls due', async (t) => {
  let route!: ReturnType<typeof outlivedRoute>
  const { port } = await serve(t, { threshold: 150, interval: 50 }, (app) => { route = outlivedRoute(app, '/abort', 600) })
  await abandonedRequest(port, '/abort', (req) => {
    req.on('response', () => t.fail('no response was due'))
    req.on('information', () => t.fail('no 102 was due'))
    setTimeout(() => req.destroy(), 30)
  })
  await until(() => route.closed, 'the server to see the abort')
  await sleep(250) // past the threshold: the slot fell due, found its response closed, and left
  t.equal(route.reply.processingSent, 0, 'nothing written to a closed response')
  t.equal(await waiting(), 0, 'out of the schedule while the handler still runs')
})

t.test('fastify.inject() on a slow opted-in route: intact payload, no 102 bytes', async (t) => {
  const { app } = await serve(t, { threshold: 5, interval: 5 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await sleep(80)
      return { sent: reply.processingSent, manual: reply.processing() }
    })
  })
  const res = await app.inject('/slow')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { sent: 0, manual: false })
  t.notMatch(res.payload, /102/)
})

t.test('keep-alive: 102s precede only their own response on a reused connection', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 20 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 2, 'two 102s')
      return 'slow'
    })
    app.get('/fast', async () => 'fast')
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const sockets = new Set()
  agent.on('free', (socket) => sockets.add(socket))
  const a = await request(port, '/slow', { agent })
  const b = await request(port, '/fast', { agent })
  const c = await request(port, '/slow', { agent })
  t.same([a.body, b.body, c.body], ['slow', 'fast', 'slow'])
  t.same([a.infos.length, b.infos.length, c.infos.length], [2, 0, 2])
  t.equal(sockets.size, 1, 'one connection carried all three')
})

t.test('pipelining: a queued request\'s 102s never land inside the response ahead of it', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 20, limit: 3 }, (app) => {
    app.get('/first', { config: { processing: { limit: 1 } } }, async (_req, reply) => {
      await until(() => reply.processingSent === 1, 'first 102')
      await sleep(150)
      return 'first-body'
    })
    app.get('/second', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 3, 'three 102s for the second')
      return 'second-body'
    })
  })
  const text = await rawExchange(port,
    (s) => s.write(GET('/first') + GET('/second')),
    (text) => text.includes('second-body'))
  const parts = text.split(/(?=HTTP\/1\.1 )/)
  t.same(statusLines(text), [102, 200, 102, 102, 102, 200])
  t.match(parts[1], /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nfirst-body$/, 'the first response is whole and ends with its body')
  t.match(parts[5], /second-body$/)
})

t.test('our timer never holds the process open, and app.close() leaves nothing behind', async (t) => {
  let refd: boolean | undefined
  const { app, port } = await serve(t, { threshold: 10_000 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      refd = (scheduler as unknown as { timer: NodeJS.Timeout | null }).timer?.hasRef()
      await sleep(50)
      return 'ok'
    })
  })
  const pending = request(port, '/slow')
  await sleep(20)
  t.equal(await liveTimers(), 1, 'our threshold timer')
  t.equal(refd, false, 'unref()ed')
  await pending
  t.equal(await waiting(), 0, 'the request left the schedule')
  t.equal(await liveTimers(), 1, 'its timer may stay armed until it falls due')
  await app.close()
  t.equal(await liveTimers(), 0, 'app.close() released it: nothing left')
})

t.test('the raw response keeps its own shape: the plugin adds no property to it', async (t) => {
  // A property added per request would give every opted-in response another hidden class than Node's
  // own, and Node's response code compiled for one would be thrown away for the other.
  let own: (string | symbol)[] = []
  let plain: (string | symbol)[] = []
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/plain', async (_req, reply) => {
      plain = Reflect.ownKeys(reply.raw)
      return 'plain'
    })
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 1, 'one 102')
      own = Reflect.ownKeys(reply.raw)
      return 'slow'
    })
  })
  t.equal((await request(port, '/plain')).body, 'plain')
  const res = await request(port, '/slow')
  t.equal(res.body, 'slow')
  t.equal(res.infos.length, 1)
  t.same(own.filter((key) => !plain.includes(key)), [], 'no key the plugin added')
  t.equal(await waiting(), 0, 'the close listener found its state and took it out of the schedule')
})
