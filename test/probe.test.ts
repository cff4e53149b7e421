// Proves: the probe endpoint answers only its token, bounds every parameter, numbers its 102s and reports the policy.
import Fastify from 'fastify'
import http from 'node:http'
import http2 from 'node:http2'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import processing from '../index.js'
import { pluginOptions, type ProbeOptions } from '../lib/options.js'
import { probeOptions, probeRoute } from '../lib/probe-endpoint.js'
import { sentChannel, type SentMessage } from '../lib/channels.js'
import { rawExchange, request, sleep, statusLines } from './helpers.js'

const TOKEN = 'sixteen-chars-or-more'
const cert = readFileSync(new URL('fixtures/cert.pem', import.meta.url))
const key = readFileSync(new URL('fixtures/key.pem', import.meta.url))

/** A real server with the probe on /_probe (and nothing else), on a loopback port. */
async function probeServer (t: Test, options: Partial<ProbeOptions> = {}, server: object = {}): Promise<number> {
  const app = Fastify(server)
  app.route(probeRoute(probeOptions({ path: '/_probe', token: TOKEN, ...options })!, pluginOptions({}).defaults))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return (app.server.address() as AddressInfo).port
}

const withToken = (headers: http.OutgoingHttpHeaders = {}): { headers: http.OutgoingHttpHeaders } => ({ headers: { 'x-probe-token': TOKEN, ...headers } })

t.test('options: absent means no probe; each bad value is a coded TypeError naming the option and the value', async (t) => {
  t.equal(probeOptions(undefined), null)
  const ok = probeOptions({ path: '/_probe', token: TOKEN })!
  t.match(ok, { path: '/_probe', maxCount: 100, maxTime: 600_000, maxConcurrent: 4 })
  t.equal(ok.digest.length, 32, 'only a sha256 of the token is kept')
  const bare = Object.assign(Object.create(null), { path: '/p', token: TOKEN, maxCount: 5, maxTime: 1000, maxConcurrent: 1 })
  t.match(probeOptions(bare), { maxCount: 5, maxTime: 1000, maxConcurrent: 1 }, 'a null-prototype object is a plain object')
  const bad: Array<[unknown, RegExp]> = [
    [null, /"probe" must be \{ path, token \} or absent, received null/],
    ['yes', /"probe" must be .* received 'yes'/],
    [[], /"probe" must be .* received \[\]/],
    [{ path: '/p', token: TOKEN, secret: 1 }, /unknown option "probe\.secret"/],
    [{ token: TOKEN }, /"probe\.path" must be a path starting with "\/".*received undefined/],
    [{ path: 'p', token: TOKEN }, /"probe\.path" .* received 'p'/],
    [{ path: '/p?x=1', token: TOKEN }, /"probe\.path" .* received '\/p\?x=1'/],
    [{ path: '/p' }, /"probe\.token" must be a string of at least 16 characters, received undefined/],
    [{ path: '/p', token: 1234 }, /"probe\.token" .* received 1234/],
    [{ path: '/p', token: 'short-secret' }, /"probe\.token" .* received a string of 12 characters$/],
    [{ path: '/p', token: TOKEN, maxCount: 0 }, /"probe\.maxCount" must be an integer from 1 to 10000, received 0/],
    [{ path: '/p', token: TOKEN, maxTime: 1.5 }, /"probe\.maxTime" must be an integer from 1000 to 3600000, received 1\.5/],
    [{ path: '/p', token: TOKEN, maxConcurrent: '2' }, /"probe\.maxConcurrent" must be an integer from 1 to 64, received '2'/]
  ]
  for (const [value, message] of bad) {
    let err: unknown = null
    try {
      probeOptions(value)
    } catch (e) {
      err = e
    }
    t.type(err, TypeError)
    t.match(err, { code: /^FST_PROCESSING_(INVALID|UNKNOWN)_OPTION$/, message }, String(message))
  }
  t.throws(() => probeOptions({ path: '/p', token: 'short-secret' }), { message: /^((?!short-secret).)*$/ }, 'the token is never in the message')
})

t.test('with the token: the 102s asked for, each numbered, then a report of what was sent, seen and decided', async (t) => {
  const port = await probeServer(t)
  const res = await request(port, '/_probe?count=3&interval=20&hold=150', withToken({ cookie: 'session=1', 'x-forwarded-for': '10.0.0.1', via: '1.1 edge' }))
  t.equal(res.status, 200)
  t.same(res.infos.map((i) => [i.status, i.headers['x-probe-seq']]), [[102, '1'], [102, '2'], [102, '3']])
  const report = JSON.parse(res.body)
  t.match(report, { probe: 'fastify-processing', protocol: 'HTTP/1.1', asked: { count: 3, interval: 20, hold: 150 }, stopped: null })
  t.same(report.sent.map((s: { seq: number }) => s.seq), [1, 2, 3])
  t.ok(report.sent.every((s: { at: number }, i: number, all: Array<{ at: number }>) => s.at >= 20 * (i + 1) && (i === 0 || s.at >= all[i - 1]!.at)), 'each one no sooner than its interval')
  t.ok(report.elapsed >= 150, `answered no sooner than the hold (${report.elapsed} ms)`)
  t.equal(report.headers['x-probe-token'], '[redacted]', 'the token is not echoed')
  t.equal(report.headers.cookie, '[redacted]', 'nor cookies')
  t.equal(report.headers['x-forwarded-for'], '10.0.0.1', 'proxy signs are shown as they arrived')
  t.match(report.policy, { reason: 'proxy', sends: false }, 'the default policy would withhold 102s from this request')
  t.ok(report.policy.signs.includes('x-forwarded-for') && report.policy.signs.includes('via'), `signs: ${report.policy.signs}`)
})

t.test('the report names a known peer and the limit the default policy gives it', async (t) => {
  const port = await probeServer(t)
  const res = await request(port, '/_probe?count=0', withToken({ 'user-agent': 'Java-http-client/17.0.15' }))
  const report = JSON.parse(res.body)
  t.same(res.infos, [])
  t.match(report.policy, { reason: 'peer', peer: 'Java java.net.http.HttpClient', limit: 8, sends: true })
  const plain = JSON.parse((await request(port, '/_probe?count=0', withToken())).body)
  t.match(plain.policy, { reason: null, peer: null, limit: 100, signs: [], sends: true }, 'no sign, no peer: the defaults send')
})

t.test('without the token, or with a wrong one: the same 404 as a path that does not exist, and no 102', async (t) => {
  const port = await probeServer(t)
  const nowhere = await request(port, '/nowhere')
  for (const init of [{}, withToken({ 'x-probe-token': 'sixteen-chars-or-moRe' }), withToken({ 'x-probe-token': 'x' })]) {
    const res = await request(port, '/_probe?count=3&interval=10', init)
    t.equal(res.status, 404)
    t.same(res.infos, [])
    t.same(Object.keys(JSON.parse(res.body)), Object.keys(JSON.parse(nowhere.body)), 'Fastify\'s own 404')
    t.equal(JSON.parse(res.body).message, 'Route GET:/_probe?count=3&interval=10 not found')
  }
})

t.test('a bad parameter gets a 400 naming it and its range; nothing is sent', async (t) => {
  const port = await probeServer(t, { maxCount: 20, maxTime: 2000 })
  const cases: Array<[string, string]> = [
    ['count=abc', "count must be an integer from 0 to 20, received 'abc'"],
    ['count=21', "count must be an integer from 0 to 20, received '21'"],
    ['count=-1', "count must be an integer from 0 to 20, received '-1'"],
    ['count=1&count=2', "count must be an integer from 0 to 20, received [ '1', '2' ]"],
    ['interval=5', "interval must be an integer from 10 to 60000, received '5'"],
    ['interval=60001', "interval must be an integer from 10 to 60000, received '60001'"],
    ['hold=2001', "hold must be an integer from 0 to 2000, received '2001'"],
    ['count=20&interval=101', 'count × interval must be at most 2000 ms, received 20 × 101 = 2020'],
    ['delay=1', 'unknown parameter "delay" (known: count, interval, hold, id, status, client)'],
    ['id=no%20spaces', "id must be 1 to 64 letters, digits, \"-\" or \"_\", received 'no spaces'"],
    ['id=a&id=b', "id must be 1 to 64 letters, digits, \"-\" or \"_\", received [ 'a', 'b' ]"]
  ]
  for (const [query, message] of cases) {
    const res = await request(port, `/_probe?${query}`, withToken())
    t.equal(res.status, 400, query)
    t.same(JSON.parse(res.body), { statusCode: 400, error: 'Bad Request', message }, query)
    t.same(res.infos, [])
  }
})

t.test('concurrent probes are bounded: the next one gets a 503, and a finished probe frees its place', async (t) => {
  const port = await probeServer(t, { maxConcurrent: 1 })
  const agent = new http.Agent({ keepAlive: false })
  const first = request(port, '/_probe?count=1&interval=10&hold=400', { ...withToken(), agent })
  await new Promise((resolve) => setTimeout(resolve, 100))
  const second = await request(port, '/_probe?count=0', withToken())
  t.equal(second.status, 503)
  t.equal(second.headers['retry-after'], '1')
  t.match(JSON.parse(second.body), { message: 'at most 1 probes at once' })
  t.equal((await first).status, 200)
  t.equal((await request(port, '/_probe?count=0', withToken())).status, 200, 'the place is free again')
})

t.test('a client that goes away ends its probe at once, and frees its place', async (t) => {
  const port = await probeServer(t, { maxConcurrent: 1 })
  // 100 102s a second apart: the probe would otherwise hold its place for 100 s.
  const text = await rawExchange(port, (socket) => socket.write(`GET /_probe?count=100&interval=1000&hold=600000 HTTP/1.1\r\nHost: x\r\nx-probe-token: ${TOKEN}\r\n\r\n`), (text) => text.includes('x-probe-seq: 1\r\n'))
  t.same(statusLines(text), [102])
  let res = await request(port, '/_probe?count=0', withToken())
  for (let i = 0; i < 200 && res.status === 503; i++) res = await request(port, '/_probe?count=0', withToken())
  t.equal(res.status, 200, 'the next probe gets its place')
})

t.test('HTTP/1.0: no 102 at all, and the report says why', async (t) => {
  const port = await probeServer(t)
  const text = await rawExchange(port, (socket) => socket.write(`GET /_probe?count=2&interval=10 HTTP/1.0\r\nx-probe-token: ${TOKEN}\r\n\r\n`))
  t.same(statusLines(text), [200])
  const report = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))
  t.match(report, { protocol: 'HTTP/1.0', sent: [], stopped: 'HTTP/1.0: no interim response may go to this request' })
})

t.test('a request with an Upgrade header: no 102 at all, and the report says why', async (t) => {
  const port = await probeServer(t)
  const text = await rawExchange(port, (socket) => socket.write(`GET /_probe?count=2&interval=10 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nx-probe-token: ${TOKEN}\r\n\r\n`), (text) => text.includes('"probe"'))
  t.same(statusLines(text), [200])
  t.match(text, /"sent":\[\],"stopped":"HTTP\/1\.1 with Upgrade: no interim response may go to this request"/)
})

function h2Get (authority: string, path: string, options: http2.SecureClientSessionOptions = {}): Promise<{ interims: Array<string | string[] | undefined>, status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(authority, options)
    session.on('error', reject)
    const stream = session.request({ ':path': path, 'x-probe-token': TOKEN })
    const interims: Array<string | string[] | undefined> = []
    let status = 0
    let body = ''
    stream.on('headers', (h) => { if (h[':status'] === 102) interims.push(h['x-probe-seq']) })
    stream.on('response', (h) => { status = Number(h[':status']) })
    stream.setEncoding('utf8')
    stream.on('data', (c: string) => { body += c })
    stream.on('end', () => session.close(() => resolve({ interims, status, body })))
    stream.on('error', reject)
    stream.end()
  })
}

t.test('HTTP/2, cleartext and over TLS: numbered 102s on the stream, then the report', async (t) => {
  const h2c = await probeServer(t, {}, { http2: true })
  const tls = await probeServer(t, {}, { http2: true, https: { key, cert } })
  for (const [authority, options] of [[`http://127.0.0.1:${h2c}`, {}], [`https://localhost:${tls}`, { ca: cert }]] as const) {
    const res = await h2Get(authority, '/_probe?count=2&interval=10', options)
    t.same(res.interims, ['1', '2'], authority)
    t.equal(res.status, 200)
    t.match(JSON.parse(res.body), { protocol: 'HTTP/2.0', sent: [{ seq: 1 }, { seq: 2 }], stopped: null })
  }
})

t.test('the route keeps the automatic emitter off and exposes no HEAD route', async (t) => {
  const route = probeRoute(probeOptions({ path: '/_probe', token: TOKEN })!, pluginOptions({}).defaults)
  t.match(route, { method: 'GET', url: '/_probe', exposeHeadRoute: false, config: { processing: false } })
})

t.test('the plugin option: `probe: { path, token }` serves the probe, with the plugin\'s own options as the policy; a bad one stops the app', async (t) => {
  const app = Fastify()
  await app.register(processing, { probe: { path: '/_probe', token: TOKEN }, behind: 'haproxy' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const res = await request((app.server.address() as AddressInfo).port, '/_probe?count=2&interval=10', withToken({ 'x-forwarded-for': '10.0.0.1' }))
  t.same(res.infos.map((i) => i.headers['x-probe-seq']), ['1', '2'])
  t.match(JSON.parse(res.body).policy, { reason: null, sends: true, signs: ['x-forwarded-for'] }, 'behind: haproxy vouches for the sign')
  const bad = Fastify()
  await t.rejects(async () => { await bad.register(processing, { probe: { path: '/_probe', token: 'too-short' } }).ready() }, { code: 'FST_PROCESSING_INVALID_OPTION', message: /"probe\.token"/ })
  const off = Fastify()
  await off.register(processing, {})
  t.equal(off.hasRoute({ method: 'GET', url: '/_probe' }), false, 'no probe unless asked for')
})

t.test('the report carries the app\'s own bounds, so that the command never takes them for the path\'s', async (t) => {
  const port = await probeServer(t, { maxCount: 20, maxTime: 5000 })
  const report = JSON.parse((await request(port, '/_probe?count=0', withToken())).body)
  t.same(report.limits, { maxCount: 20, maxTime: 5000 })
})

t.test('?status=<id>: what a run has sent so far and when it answered, for the command to see a path that holds', async (t) => {
  const port = await probeServer(t)
  const running = request(port, '/_probe?count=2&interval=50&hold=600&id=run-1', withToken())
  await sleep(250)
  const during = JSON.parse((await request(port, '/_probe?status=run-1', withToken())).body)
  t.equal(during.probe, 'fastify-processing')
  t.same(during.status.sent.map((s: { seq: number }) => s.seq), [1, 2], 'both 102s sent')
  t.equal(during.status.answered, null, 'not answered yet: the hold runs')
  await running
  const after = JSON.parse((await request(port, '/_probe?status=run-1', withToken())).body)
  t.ok(after.status.answered >= 600, `answered at ${after.status.answered} ms`)
  t.same(JSON.parse((await request(port, '/_probe?status=nobody', withToken())).body), { probe: 'fastify-processing', status: null }, 'an unknown id')
  t.same(JSON.parse((await request(port, '/_probe?status=a&status=b', withToken())).body).status, null, 'two ids are no id')
  t.equal((await request(port, '/_probe?status=run-1')).status, 404, 'without the token: nothing')
})

t.test('?status keeps the last 32 runs: the oldest goes first, and an id used again is the newest', async (t) => {
  const port = await probeServer(t)
  for (let i = 0; i < 33; i++) await request(port, `/_probe?count=0&id=r${i}`, withToken())
  await request(port, '/_probe?count=0&id=r1', withToken())
  await request(port, '/_probe?count=0&id=r33', withToken())
  const status = async (id: string): Promise<unknown> => JSON.parse((await request(port, `/_probe?status=${id}`, withToken())).body).status
  t.equal(await status('r0'), null, 'the oldest is gone')
  t.not(await status('r1'), null, 'used again: kept')
  t.equal(await status('r2'), null, 'the next oldest is gone')
  t.not(await status('r33'), null)
})

t.test('?client: the command as one file, to a request holding the token', async (t) => {
  const port = await probeServer(t)
  const res = await request(port, '/_probe?client', withToken())
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/javascript/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.match(res.body, /^#!\/usr\/bin\/env node\n/)
  t.notMatch(res.body, /^import .* from '\.\//m, 'no import of another file')
  t.equal((await request(port, '/_probe?client')).status, 404, 'without the token: nothing')
})

t.test('the probe\'s 102s are published on fastify-processing:sent, marked as the probe\'s', async (t) => {
  const port = await probeServer(t)
  const seen: SentMessage[] = []
  const listen = (message: unknown): void => { seen.push(message as SentMessage) }
  sentChannel.subscribe(listen)
  t.teardown(() => sentChannel.unsubscribe(listen))
  await request(port, '/_probe?count=2&interval=10', withToken())
  t.same(seen.map((m) => [m.route, m.sent, m.manual, m.bytes, m.probe]), [['GET /_probe', 1, false, 43, true], ['GET /_probe', 2, false, 43, true]], 'bytes: the interim as written, 43 with its x-probe-seq')
  t.equal(seen[0]!.request.url, '/_probe?count=2&interval=10')
  t.equal(seen[0]!.reply.statusCode, 200)
})
