// Proves: reply.processing() writes one checked 102, or returns false where the wire rules forbid it.
import type { FastifyReply } from 'fastify'
import { execFile } from 'node:child_process'
import http from 'node:http'
import http2 from 'node:http2'
import { promisify } from 'node:util'
import t from 'tap'
import { request as undiciRequest } from 'undici'
import { rawExchange, request, serve, sleep, statusLines, until } from './helpers.js'
import { needs } from './interop/needs.js'

const run = promisify(execFile)

t.test('reply.processing(headers) writes one 102 with progress headers, read back three ways', async (t) => {
  const { port } = await serve(t, { threshold: 60_000 }, (app) => {
    app.get('/progress', async (_req, reply) => {
      const written = [
        reply.processing({ progress: '1/3' }),
        reply.processing({ Progress: '2/3', 'x-step': ['parse', 'load'] }),
        reply.processing({ progress: 3, 'x-note': 'caf\u00e9' })
      ]
      return { written, sent: reply.processingSent }
    })
  })

  const node = await request(port, '/progress')
  t.same(JSON.parse(node.body), { written: [true, true, true], sent: 3 })
  t.same(node.infos.map((i) => i.status), [102, 102, 102])
  t.equal(node.infos[0]!.headers.progress, '1/3')
  t.equal(node.infos[1]!.headers.progress, '2/3')
  t.equal(node.infos[1]!.headers['x-step'], 'parse, load')
  t.equal(node.infos[2]!.headers.progress, '3')

  const infos: Array<{ statusCode: number, headers: Record<string, unknown> }> = []
  const res = await undiciRequest(`http://127.0.0.1:${port}/progress`, { onInfo: (info) => infos.push(info) })
  t.same(await res.body.json(), { written: [true, true, true], sent: 3 })
  t.same(infos.map((i) => [i.statusCode, i.headers.progress]), [[102, '1/3'], [102, '2/3'], [102, '3']])

  if (!await needs(t, 'curl')) return
  const curl = await run('curl', ['-sv', `http://127.0.0.1:${port}/progress`])
  t.match(curl.stderr, /< HTTP\/1\.1 102 Processing\r?\n< progress: 1\/3\r?\n/)
  t.match(curl.stderr, /< x-step: parse, load\r?\n/, 'several values: one field, joined with ", "')
  t.match(curl.stdout, /"sent":3/)
})

t.test('reply.processing over HTTP/2 carries its headers on the interim HEADERS frame', async (t) => {
  const { port } = await serve(t, {}, (app) => {
    app.get('/progress', async (_req, reply) => ({ written: reply.processing({ Progress: '42/100' }) }))
  }, { http2: true })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.close())
  const stream = session.request({ ':path': '/progress' })
  const infos: http2.IncomingHttpHeaders[] = []
  stream.on('headers', (h) => infos.push(h))
  let body = ''
  stream.setEncoding('utf8')
  stream.on('data', (c: string) => { body += c })
  await new Promise((resolve) => stream.on('end', resolve))
  t.same(JSON.parse(body), { written: true })
  t.equal(infos.length, 1)
  t.equal(infos[0]![':status'], 102)
  t.equal(infos[0]!.progress, '42/100')
})

t.test('invalid interim headers throw a coded error, and nothing is written', async (t) => {
  const errors: Array<{ code: string, message: string }> = []
  const { port } = await serve(t, {}, (app) => {
    app.get('/bad', async (_req, reply) => {
      const bad: unknown[] = [
        { 'bad name': 'v' },
        { 'x-\u00e9': 'v' },
        { ':status': '200' },
        { 'Content-Length': '5' },
        { connection: 'close' },
        { 'transfer-encoding': 'chunked' },
        { 'x-a': { nested: true } },
        { 'x-a': ['ok', null] },
        'progress: 1',
        null,
        ['x', 'y']
      ]
      for (const headers of bad) {
        try {
          reply.processing(headers as Record<string, string>)
          errors.push({ code: 'none', message: JSON.stringify(headers) })
        } catch (err) {
          t.type(err, TypeError)
          errors.push(err as { code: string, message: string })
        }
      }
      return { sent: reply.processingSent }
    })
  })
  const text = await rawExchange(port, (s) => s.write('GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  t.same(statusLines(text), [200], 'no interim response at all')
  t.match(text, /\{"sent":0\}$/)
  t.notMatch(text, /evil/)
  t.equal(errors.length, 11)
  t.ok(errors.every((e) => e.code === 'FST_PROCESSING_INVALID_HEADER'), 'every one is coded')
  t.match(errors[0]!.message, /header 'bad name' is not a valid header name/)
  t.match(errors[2]!.message, /header ':status' is not a valid header name/)
  t.match(errors[3]!.message, /header 'Content-Length' frames the connection and is not allowed on a 102, received '5'/)
  t.match(errors[6]!.message, /^reply\.processing\(\): interim header 'x-a' must be a string or number, or an array of them, received \{ nested: true \}$/)
  t.match(errors[8]!.message, /argument must be an object of header names to values, received 'progress: 1'/)
})

t.test('a header value with CR, LF or NUL is left out of the 102, and no byte of it is written', async (t) => {
  const { port } = await serve(t, {}, (app) => {
    app.get('/smuggle', async (_req, reply) => ({
      sent: reply.processing({ 'x-a': 'ok\r\nset-cookie: evil=1', 'x-b': 'nul\u0000', 'x-c': 'line\nfeed', 'x-d': ['ok', 'b\rad'], 'x-e': 'kept' })
    }))
  })
  const text = await rawExchange(port, (s) => s.write('GET /smuggle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  t.same(statusLines(text), [102, 200])
  t.match(text, /^HTTP\/1\.1 102 Processing\r\nx-e: kept\r\n\r\nHTTP\/1\.1 200/)
  t.notMatch(text, /evil|x-[abcd]/)
  t.match(text, /\{"sent":true\}$/)
})

t.test('reply.processing returns false, without throwing, whenever the wire rules forbid a 102', async (t) => {
  const seen: Record<string, boolean[]> = {}
  const { app, port } = await serve(t, { limit: 2 }, (app) => {
    app.get('/rules', async (req, reply) => {
      const results = [reply.processing(), reply.processing(), reply.processing()] // limit 2
      seen[req.headers['x-case'] as string] = results
      return 'ok'
    })
    app.get('/after-headers', async (_req, reply) => {
      reply.raw.writeHead(200, { 'content-length': '2' })
      seen.afterHeaders = [reply.processing()]
      reply.raw.end('ok')
      return reply
    })
    app.get('/after-hijack', async (_req, reply) => {
      reply.hijack()
      seen.afterHijack = [reply.processing()]
      reply.raw.socket!.end('HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n')
    })
  })
  await request(port, '/rules', { headers: { 'x-case': 'http11' } })
  t.same(seen.http11, [true, true, false], 'limit reached')

  const text = await rawExchange(port, (s) => s.write('GET /rules HTTP/1.0\r\nX-Case: http10\r\n\r\n'))
  t.same(seen.http10, [false, false, false], 'HTTP/1.0')
  t.same(statusLines(text), [200])

  await app.inject({ url: '/rules', headers: { 'x-case': 'inject' } })
  t.same(seen.inject, [false, false, false], 'inject')

  const after = await request(port, '/after-headers')
  t.same(seen.afterHeaders, [false], 'after the final headers')
  t.equal(after.infos.length, 0)

  const hijacked = await rawExchange(port, (s) => s.write('GET /after-hijack HTTP/1.1\r\nHost: x\r\n\r\n'))
  t.same(seen.afterHijack, [false], 'after hijack')
  t.same(statusLines(hijacked), [204])
})

t.test('reply.processing restarts the interval; manual and automatic 102s share the limit', async (t) => {
  let reply!: FastifyReply
  let manualAt = 0
  const { port } = await serve(t, { threshold: 20, interval: 200, limit: 3 }, (app) => {
    app.get('/mixed', { config: { processing: true } }, async (_req, r) => {
      reply = r
      await until(() => r.processingSent === 1, 'first automatic 102')
      await sleep(100)
      manualAt = performance.now()
      r.processing({ progress: 'manual' })
      await until(() => r.processingSent === 3, 'third 102')
      await sleep(50)
      return 'done'
    })
  })
  const res = await request(port, '/mixed')
  t.same(res.infos.map((i) => i.headers.progress ?? 'auto'), ['auto', 'manual', 'auto'])
  t.ok(res.infos[2]!.at - res.infos[1]!.at >= 195, 'the next automatic 102 came a whole interval after the manual one')
  t.equal(reply.processingSent, 3)
  t.ok(manualAt > 0)
})

// Each Node line runs its own path for real: Node's writeInformation where it exists (>= 24.18, 26.2),
// Node's head writer elsewhere. The method is watched on the prototype, never replaced: the real one runs.
t.test('interim responses go through this Node\'s own 1xx writer, HTTP/1.1 and HTTP/2', async (t) => {
  const h1 = http.ServerResponse.prototype as unknown as Record<string, (...args: unknown[]) => unknown>
  const h2 = http2.Http2ServerResponse.prototype as unknown as Record<string, unknown>
  const h1Method = typeof h1.writeInformation === 'function' ? 'writeInformation' : '_writeRaw'
  const hasH2Info = typeof h2.writeInformation === 'function'
  const calls: string[] = []
  const original = h1[h1Method]!
  h1[h1Method] = function (this: unknown, ...args: unknown[]) {
    calls.push(h1Method === 'writeInformation' ? JSON.stringify(args.slice(0, 2)) : String(args[0]).split('\r\n')[0]!)
    return original.apply(this, args)
  }
  t.teardown(() => { h1[h1Method] = original })
  const { port } = await serve(t, {}, (app) => {
    app.get('/info', async (_req, reply) => ({ written: reply.processing({ Progress: ['a', 'b'] }) }))
  })
  const res = await request(port, '/info')
  t.same(JSON.parse(res.body), { written: true })
  t.equal(res.infos[0]!.headers.progress, 'a, b', 'one field, values joined with ", ", on every line')
  t.same(calls[0], h1Method === 'writeInformation' ? '[102,{"progress":"a, b"}]' : 'HTTP/1.1 102 Processing',
    `HTTP/1.1 went through ${h1Method}`)

  const h2Calls: unknown[] = []
  const h2Original = h2.writeInformation as ((...args: unknown[]) => boolean) | undefined
  if (h2Original !== undefined) {
    h2.writeInformation = function (this: unknown, ...args: unknown[]) {
      h2Calls.push(args)
      return h2Original.apply(this, args)
    }
    t.teardown(() => { h2.writeInformation = h2Original })
  }
  const { port: h2Port } = await serve(t, {}, (app) => {
    app.get('/info', async (_req, reply) => ({ written: reply.processing({ Progress: ['a', 'b'] }) }))
  }, { http2: true })
  const session = http2.connect(`http://127.0.0.1:${h2Port}`)
  t.teardown(() => session.close())
  const infos: http2.IncomingHttpHeaders[] = []
  const stream = session.request({ ':path': '/info' })
  stream.on('headers', (h) => infos.push(h))
  stream.resume()
  await new Promise((resolve) => stream.on('end', resolve))
  t.equal(infos[0]?.progress, 'a, b')
  t.same(h2Calls, hasH2Info ? [[102, { progress: 'a, b' }]] : [], hasH2Info ? 'HTTP/2 went through writeInformation' : 'HTTP/2 went through stream.additionalHeaders')
})
