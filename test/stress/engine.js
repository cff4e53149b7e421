// Randomized stress and fault test: one Fastify server with the plugin, many concurrent raw TCP
// clients, and a strict parse of every byte they receive (parser.js). Shared by scripts/stress.js
// (npm run stress, the full run) and test/stress/stress.test.ts (a short run inside npm test).
//
// Every decision (routes, durations, keep-alive or pipelining, HTTP/1.0, uploads, aborts, ...) comes
// from a PRNG seeded per session from `seed`, so a seed replays the same traffic; the timing of the
// machine is of course not replayed.
import net from 'node:net'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { FramingError, ResponseParser } from './parser.js'

/** Plugin-level options: every duration below is chosen around these boundaries. */
export const THRESHOLD = 20
export const INTERVAL = 10
export const LIMIT = 5

/** mulberry32: small, fast, good enough, and the same everywhere. */
export function prng (seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)]
  }
}

export function makeBody (id, len) {
  const unit = `${id};`
  return unit.repeat(Math.ceil(len / unit.length) + 1).slice(0, len)
}

/** A duration on a threshold/interval boundary, ±2 ms: T + k·I + δ. */
function boundary (rng, threshold = THRESHOLD, interval = INTERVAL, maxK = LIMIT + 1) {
  return Math.max(0, threshold + rng.int(-1, maxK) * interval + rng.int(-2, 2))
}

const when = (request) => {
  const h = request.headers['x-102']
  if (h === 'throw') throw new Error('when threw on purpose')
  return h !== 'no'
}

/**
 * Routes under /r/: what each does, and what a request to it may receive.
 * `zero(req)`: the request must get no 102 at all; `limit`: the most it may get; `status`: the final one.
 */
export const ROUTES = {
  auto: { limit: LIMIT, status: 200 },
  tight: { limit: 2, status: 200, config: { limit: 2, threshold: 5, interval: 5 } },
  stream: { limit: LIMIT, status: 200 },
  hijack: { limit: LIMIT, status: 200 },
  throw: { limit: LIMIT, status: 500 },
  throwsync: { limit: 0, status: 500 },
  sync: { limit: 0, status: 200 },
  manual: { limit: 4, status: 200, config: { threshold: 15, interval: 10, limit: 4 } },
  expect: { limit: LIMIT, status: 200, config: { requireExpect: true } },
  when: { limit: LIMIT, status: 200, config: { when } },
  plain: { limit: 0, status: 200, config: false },
  upload: { limit: LIMIT, status: 200, method: 'POST' }
}

export async function buildServer (processing) {
  const app = Fastify({ logger: false })
  await app.register(processing, { threshold: THRESHOLD, interval: INTERVAL, limit: LIMIT })
  const cfg = (name) => ({ config: { processing: ROUTES[name].config ?? true } })
  const prep = (request, reply) => {
    const { id, len } = request.query
    reply.header('x-id', id)
    return makeBody(id, Number(len))
  }
  const wait = (request) => sleep(Number(request.query.ms))
  for (const name of ['auto', 'tight', 'expect', 'when', 'plain']) {
    app.get(`/r/${name}`, cfg(name), async (request, reply) => {
      const body = prep(request, reply)
      await wait(request)
      return body
    })
  }
  app.get('/r/stream', cfg('stream'), async (request, reply) => {
    const body = prep(request, reply)
    await wait(request)
    const cut = [0, Math.floor(body.length / 3), Math.floor((2 * body.length) / 3), body.length]
    reply.type('text/plain')
    return Readable.from((async function * () {
      for (let i = 0; i < 3; i++) {
        await sleep(i)
        yield body.slice(cut[i], cut[i + 1])
      }
    })())
  })
  app.get('/r/hijack', cfg('hijack'), async (request, reply) => {
    const body = prep(request, reply)
    const ms = Number(request.query.ms)
    await sleep(Math.floor(ms / 2))
    reply.hijack()
    await sleep(ms - Math.floor(ms / 2))
    const res = reply.raw
    if (res.destroyed) return
    if (request.query.chunked === '1') {
      res.writeHead(200, { 'x-id': request.query.id, 'content-type': 'text/plain' })
      res.write(body.slice(0, 7))
      res.end(body.slice(7))
    } else {
      res.writeHead(200, { 'x-id': request.query.id, 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
  })
  app.get('/r/throw', cfg('throw'), async (request, reply) => {
    prep(request, reply)
    await wait(request)
    throw new Error('handler failed on purpose')
  })
  app.get('/r/throwsync', cfg('throwsync'), (request, reply) => {
    prep(request, reply)
    throw new Error('handler failed synchronously on purpose')
  })
  app.get('/r/sync', cfg('sync'), (request, reply) => {
    reply.send(prep(request, reply))
  })
  app.get('/r/manual', cfg('manual'), async (request, reply) => {
    const body = prep(request, reply)
    const steps = String(request.query.steps).split(',').map(Number)
    for (const [i, ms] of steps.entries()) {
      await sleep(ms)
      reply.processing({ 'x-id': request.query.id, 'x-step': i })
    }
    return body
  })
  app.post('/r/upload', cfg('upload'), async (request, reply) => {
    const body = prep(request, reply)
    reply.header('x-received', String(Buffer.byteLength(request.body ?? '')))
    await wait(request)
    return body
  })
  return app
}

/** Statistics and violations of one run. */
class Report {
  constructor (seed) {
    this.seed = seed
    this.sessions = 0
    this.requests = 0
    this.http10 = 0
    this.pipelined = 0
    this.uploads = 0
    this.heads = 0
    this.finals = 0
    this.aborted = 0
    this.interims = 0
    this.byRoute = {}
    this.violations = {}
    this.examples = []
  }

  violation (kind, detail) {
    this.violations[kind] = (this.violations[kind] ?? 0) + 1
    if (this.examples.length < 20) this.examples.push(`${kind}: ${detail}`)
  }

  get violationCount () {
    return Object.values(this.violations).reduce((a, b) => a + b, 0)
  }
}

/** One request of a session: what was sent, what it may receive, what it received. */
function plan (rng, session, k, kind) {
  const id = `${session}.${k}`
  let route = rng.pick(['auto', 'auto', 'auto', 'tight', 'stream', 'hijack', 'throw', 'throwsync', 'sync', 'manual', 'expect', 'when', 'plain', 'upload'])
  if (kind !== 'sequential' && route === 'upload') route = 'auto'
  const spec = ROUTES[route]
  const version = kind === 'http10' ? '1.0' : '1.1'
  const len = rng.pick([0, 1, 17, 200, 1500, 20_000])
  const method = spec.method ?? (route === 'auto' && rng.chance(0.08) ? 'HEAD' : 'GET')
  let ms = route === 'tight' ? boundary(rng, 5, 5, 4) : boundary(rng)
  let query = `id=${id}&len=${len}&ms=${ms}`
  const headers = ['Host: stress']
  let zero = spec.limit === 0 || version === '1.0'
  if (route === 'hijack' && rng.chance(0.5)) query += '&chunked=1'
  if (route === 'manual') {
    const steps = Array.from({ length: rng.int(1, 6) }, () => rng.int(0, 12))
    ms = steps.reduce((a, b) => a + b, 0)
    query += `&steps=${steps.join(',')}`
  }
  if (route === 'expect') {
    if (rng.chance(0.5)) headers.push('Expect: 102-processing')
    else zero = true
  }
  if (route === 'when') {
    const h = rng.pick(['yes', 'no', 'throw', null])
    if (h !== null) headers.push(`X-102: ${h}`)
    if (h === 'no' || h === 'throw') zero = true
  }
  if (version === '1.0' && rng.chance(0.3)) headers.push('Connection: keep-alive')
  let upload = null
  if (method === 'POST') {
    const size = rng.pick([0, 5, 300, 5000])
    const pieces = rng.int(1, 3)
    const chunked = rng.chance(0.5)
    headers.push('Content-Type: text/plain', chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`)
    upload = { size, chunked, delays: Array.from({ length: pieces }, () => rng.int(0, 25)) }
  }
  const head = `${method} /r/${route}?${query} HTTP/${version}\r\n${headers.join('\r\n')}\r\n\r\n`
  // Aborts: the client destroys the connection at a random moment of this request's life.
  const abort = rng.chance(0.04) ? { at: rng.pick(['partial-head', 'timer', 'first-102', 'mid-upload']), ms: rng.int(0, ms + 20) } : null
  return {
    id,
    route,
    spec,
    method,
    version,
    len,
    ms,
    head,
    upload,
    zero,
    abort,
    limit: version === '1.0' ? 0 : spec.limit,
    interims: 0,
    final: false,
    aborted: false,
    uploading: false,
    settle: null
  }
}

/** One client connection: a few requests, sequential, pipelined or a lone HTTP/1.0 one. */
async function session (index, seed, port, report, budget) {
  const rng = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0)
  const r = rng.next()
  const kind = r < 0.1 ? 'http10' : r < 0.35 ? 'pipelined' : 'sequential'
  const count = kind === 'http10' ? 1 : kind === 'pipelined' ? rng.int(2, 4) : rng.int(1, 6)
  const n = budget(count)
  if (n === 0) return
  const requests = Array.from({ length: n }, (_, k) => plan(rng, index, k, kind))
  report.sessions++
  report.requests += n
  if (kind === 'http10') report.http10 += n
  if (kind === 'pipelined') report.pipelined += n

  const socket = net.connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  let closed = false
  let dead = false
  const watchdogs = new Set()

  const settleAll = (why) => {
    for (const req of requests) {
      if (req.settle !== null) {
        const settle = req.settle
        req.settle = null
        settle(why)
      }
    }
  }
  const abortNow = (req) => {
    if (req.final || closed) return
    for (const other of requests) if (!other.final) other.aborted = true
    socket.destroy()
  }

  const parser = new ResponseParser({
    onInterim (req, head) {
      req.interims++
      report.interims++
      const where = `${req.method} /r/${req.route} id=${req.id} HTTP/${req.version}`
      if (head.status !== 102) report.violation('unexpected 1xx', `${head.status} to ${where}`)
      if (req.version === '1.0') report.violation('102 to HTTP/1.0', where)
      else if (req.zero) report.violation('102 to a request that must get none', where)
      if (req.interims > req.limit && req.version !== '1.0') report.violation('102 beyond limit', `${req.interims} > ${req.limit}: ${where}`)
      if (req.uploading) report.violation('102 before the request body was complete', where)
      const names = head.headers.map(([name]) => name)
      const xid = head.headers.find(([name]) => name === 'x-id')?.[1]
      if (req.route === 'manual' ? (xid !== undefined && xid !== req.id) : names.length > 0) {
        report.violation('102 of another request', `${JSON.stringify(head.headers)} on ${where}`)
      }
      if (req.abort?.at === 'first-102') abortNow(req)
    },
    onFinal (req, head) {
      req.final = true
      report.finals++
      const where = `${req.method} /r/${req.route} id=${req.id}`
      const get = (name) => head.headers.find(([n]) => n === name)?.[1]
      if (head.status !== req.spec.status) report.violation('wrong status', `${head.status} for ${where}: ${head.body.toString('latin1').slice(0, 200)}`)
      if (req.spec.status === 200) {
        if (get('x-id') !== req.id) report.violation('final response of another request', `x-id ${get('x-id')} for ${where}`)
        const expected = req.method === 'HEAD' ? '' : makeBody(req.id, req.len)
        if (head.body.toString('latin1') !== expected) report.violation('corrupt body', `${where}: ${JSON.stringify(head.body.toString('latin1').slice(0, 80))}`)
        if (req.upload !== null && get('x-received') !== String(req.upload.size)) report.violation('upload not received whole', `${get('x-received')} of ${req.upload.size}: ${where}`)
      } else if (!head.body.toString('latin1').includes('"statusCode":500')) {
        report.violation('corrupt body', `${where}: ${head.body.toString('latin1').slice(0, 80)}`)
      }
      if (req.settle !== null) {
        const settle = req.settle
        req.settle = null
        settle('final')
      }
    }
  })

  socket.on('data', (chunk) => {
    if (dead) return
    try {
      parser.push(chunk)
    } catch (err) {
      if (!(err instanceof FramingError)) throw err
      dead = true
      const kind = /no request outstanding/.test(err.message) ? '102 or response after the final response' : 'framing error'
      report.violation(kind, err.message)
      socket.destroy()
    }
  })
  socket.on('error', () => {})
  const gone = new Promise((resolve) => socket.on('close', () => {
    closed = true
    if (!dead) {
      parser.end()
      for (const req of requests) {
        if (!req.final && !req.aborted && req.written) report.violation('no final response', `${req.method} /r/${req.route} id=${req.id} (connection closed)`)
      }
    }
    settleAll('closed')
    resolve()
  }))
  await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve))

  const wait = (req) => new Promise((resolve) => {
    if (req.final || closed) return resolve()
    req.settle = resolve
    const dog = setTimeout(() => {
      report.violation('hang', `${req.method} /r/${req.route} id=${req.id}: no final response in 10 s`)
      dead = true
      socket.destroy()
    }, 10_000)
    watchdogs.add(dog)
  })

  const send = async (req) => {
    if (closed) return
    parser.expect(req)
    req.written = true
    if (req.abort?.at === 'partial-head') {
      socket.write(req.head.slice(0, rng.int(1, req.head.length - 1)))
      await sleep(req.abort.ms % 10)
      abortNow(req)
      return
    }
    if (req.abort?.at === 'timer') setTimeout(() => abortNow(req), req.abort.ms)
    if (req.upload === null) {
      socket.write(req.head)
      return
    }
    report.uploads++
    const { size, chunked, delays } = req.upload
    const data = makeBody(`u${req.id}`, size)
    const cuts = delays.map((_, i) => Math.floor((size * (i + 1)) / delays.length))
    // With `Content-Length: 0` the head alone is the whole request.
    req.uploading = chunked || size > 0
    socket.write(req.head)
    let from = 0
    for (const [i, delay] of delays.entries()) {
      await sleep(delay)
      if (closed) return
      if (req.abort?.at === 'mid-upload' && i === delays.length - 1) { abortNow(req); return }
      const piece = data.slice(from, cuts[i])
      from = cuts[i]
      const last = i === delays.length - 1
      let bytes = chunked ? (piece.length > 0 ? `${piece.length.toString(16)}\r\n${piece}\r\n` : '') : piece
      if (chunked && last) bytes += '0\r\n\r\n'
      // The server can only see the body complete after this write: any 102 before it is a violation.
      if (last) req.uploading = false
      if (bytes.length > 0) socket.write(bytes)
    }
  }

  if (kind === 'pipelined') {
    // All heads at once, cut at random byte boundaries into a few writes.
    const all = requests.map((req) => req.head).join('')
    for (const req of requests) {
      parser.expect(req)
      req.written = true
      if (req.abort !== null && req.abort.at !== 'first-102') setTimeout(() => abortNow(req), req.abort.ms)
    }
    let at = 0
    while (at < all.length) {
      if (closed) break
      const next = Math.min(all.length, at + rng.int(1, all.length))
      socket.write(all.slice(at, next))
      at = next
      if (rng.chance(0.3)) await sleep(rng.int(0, 3))
    }
    for (const req of requests) await wait(req)
  } else {
    for (const req of requests) {
      if (closed) break
      await send(req)
      await wait(req)
      if (req.final && req.abort === null && kind === 'sequential') await sleep(rng.int(0, 4))
    }
  }
  for (const dog of watchdogs) clearTimeout(dog)
  // A little time for a late 102 to show up after the last final response (it would be a violation).
  if (!closed) {
    await sleep(rng.int(0, 8))
    socket.end()
  }
  await gone
  for (const req of requests) {
    report.byRoute[req.route] = (report.byRoute[req.route] ?? 0) + 1
    if (req.method === 'HEAD') report.heads++
    if (req.aborted && !req.final) report.aborted++
  }
}

function resourceDiff (before, after) {
  const count = (list) => list.reduce((m, r) => m.set(r, (m.get(r) ?? 0) + 1), new Map())
  const b = count(before)
  const out = []
  for (const [name, n] of count(after)) if (n > (b.get(name) ?? 0)) out.push(`${name} ×${n - (b.get(name) ?? 0)}`)
  return out
}

async function collect () {
  for (let i = 0; i < 6; i++) {
    globalThis.gc?.()
    await sleep(20)
  }
  return process.memoryUsage().heapUsed
}

/**
 * Runs the stress test with `processing` (the plugin). Returns a Report with `violationCount`.
 * `requests` bounds the traffic; `maxSeconds` bounds the wall time (no new session starts after it).
 */
export async function stress ({ processing, seed, requests = 50_000, concurrency = 64, maxSeconds = 300, heapSlackMB = 16 }) {
  const report = new Report(seed)
  const unhandled = (err) => report.violation('unhandled rejection', String(err?.stack ?? err))
  const uncaught = (err) => report.violation('uncaught exception', String(err?.stack ?? err))
  process.on('unhandledRejection', unhandled)
  process.on('uncaughtException', uncaught)

  // The baseline is taken once every one-time cost is paid, so that only what the traffic leaves behind
  // counts. A throwaway server loads the modules the run needs: Fastify loads ajv (three copies) and its kin
  // at ready(), and a loader that looks up source maps (tap's, on Node >= 24.13) keeps a parsed map of each
  // one, 20 MB, for good. And Node creates the stdio handles lazily: Readable.pipe() reads process.stdout
  // to compare it with its destination, so the first streamed reply would make a PipeWrap appear (when
  // stdout is a pipe) that is neither the plugin's nor a leak.
  const warm = await buildServer(processing)
  await warm.ready()
  await warm.close()
  if (!process.stdout || !process.stderr) throw new Error('no stdio')
  const heapBefore = await collect()
  const resourcesBefore = process.getActiveResourcesInfo()
  const started = performance.now()
  const app = await buildServer(processing)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()

  let issued = 0
  let nextSession = 0
  const deadline = started + maxSeconds * 1000
  const budget = (want) => {
    if (performance.now() > deadline) return 0
    const n = Math.min(want, requests - issued)
    issued += n
    return n
  }
  const more = () => issued < requests && performance.now() < deadline
  const worker = async () => {
    while (more()) await session(nextSession++, seed, port, report, budget)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  report.truncated = issued < requests
  report.runSeconds = (performance.now() - started) / 1000

  await app.close()
  // Handlers of aborted requests may still be sleeping (at most ~100 ms): let them finish.
  await sleep(300)
  report.resourcesLeft = resourceDiff(resourcesBefore, process.getActiveResourcesInfo())
  if (report.resourcesLeft.length > 0) report.violation('resources left after close', report.resourcesLeft.join(', '))
  report.heapBeforeMB = heapBefore / 2 ** 20
  report.heapAfterMB = (await collect()) / 2 ** 20
  report.gc = typeof globalThis.gc === 'function'
  if (report.gc && report.heapAfterMB - report.heapBeforeMB > heapSlackMB) {
    report.violation('heap not back near baseline', `${report.heapBeforeMB.toFixed(1)} MB -> ${report.heapAfterMB.toFixed(1)} MB`)
  }
  process.off('unhandledRejection', unhandled)
  process.off('uncaughtException', uncaught)
  report.wallSeconds = (performance.now() - started) / 1000
  return report
}
