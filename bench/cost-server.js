// The server of the cost benchmark (bench/cost.js): one Fastify app, every mode a route of it, so that
// all of them share this process's JIT state, heap and neighbours. Each route sleeps `sleep` ms:
//   /plain    no 102 at all: the baseline every other route's CPU is counted above
//   /loop     the loop a user would write by hand: a setTimeout per request, then a setInterval, each
//             calling res.writeProcessing(), both cleared when the response closes
//   /plugin   this plugin from dist/ (its public API only), default options
//   /proxied  the same, declared `behind: 'probed'`: the route for requests that carry proxy headers,
//             which default options answer with no 102 at all
// and a `-hold` twin of /plain, /loop and /plugin for the heap phases. Run with --expose-gc. The parent
// drives it over IPC: {cmd: 'phase', name, kind: 'timing' | 'heap', n} -> {type: 'ready'}; the client
// then sends n requests; {type: 'metrics'} once the phase's figures are in.
import Fastify from 'fastify'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import processing from '../dist/index.js'
import { now } from './common.js'

const { threshold, interval, sleep: sleepMs } = JSON.parse(process.argv[2])
const ELD_RESOLUTION = 5
// After the last response, before the teardown window closes: its 'close' events and listeners.
const SETTLE_MS = 50

let phase = null

// Node's writer of raw head bytes carries every 102 of every mode on every line (writeProcessing and
// writeInformation end in it). One wrapper counts them all, so every mode pays the same to be counted;
// a response's first 102 and its later ones are counted apart.
const writeRaw = ServerResponse.prototype._writeRaw
let firsts = 0
let laters = 0
ServerResponse.prototype._writeRaw = function (data, ...rest) {
  // A Buffer (the plugin's header-less 102) is read in place: "102" at bytes 9-11, no allocation.
  if (typeof data === 'string' ? data.startsWith('HTTP/1.1 102') : data[9] === 0x31 && data[10] === 0x30 && data[11] === 0x32) {
    if (this.sent102++ === 0) firsts++
    else laters++
  }
  return writeRaw.call(this, data, ...rest)
}
// The longest garbage-collection pause of a phase: the loop stops for it, and so do the 102s.
let gcMaxMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.duration > gcMaxMs) gcMaxMs = entry.duration
}).observe({ entryTypes: ['gc'] })

const app = Fastify({ logger: false })
app.decorateRequest('arrival', 0)
// Root hooks, on every route alike. The counter is set from arrival: added at the first 102 instead,
// it would change the response's shape in the middle of a wave, and the code compiled for it with it.
app.addHook('onRequest', (request, reply, done) => {
  request.arrival = now()
  reply.raw.sent102 = 0
  if (phase !== null) arrived(reply)
  done()
})
app.addHook('onResponse', (request, reply, done) => {
  if (phase !== null && ++phase.answered === phase.n) phase.allAnswered()
  done()
})

async function handler (request) {
  await sleep(sleepMs)
  return `{"arrival":${request.arrival}}`
}

// Heap phases: every request writes one 102 as it starts (the plugin's through reply.processing(), which
// also adds its 'close' listener) and waits, the next 102 an hour away, until the heap has been measured.
async function hold (request, reply) {
  if (request.routeOptions.config.processing) reply.processing()
  else reply.raw.writeProcessing()
  await phase.released
  return `{"arrival":${request.arrival}}`
}

function loop (threshold) {
  return (request, reply, done) => {
    const res = reply.raw
    let timer = setTimeout(() => {
      res.writeProcessing()
      timer = setInterval(() => { res.writeProcessing() }, interval)
    }, threshold)
    res.once('close', () => clearTimeout(timer))
    done()
  }
}

const HOUR = 3_600_000
app.get('/plain', handler)
app.get('/plain-hold', hold)
app.get('/loop', { onRequest: loop(threshold) }, handler)
app.get('/loop-hold', { onRequest: loop(HOUR) }, hold)
await app.register(async (scope) => {
  await scope.register(processing, { threshold, interval })
  scope.get('/plugin', { config: { processing: true } }, handler)
  scope.get('/proxied', { config: { processing: { behind: 'probed' } } }, handler)
  scope.get('/plugin-hold', { config: { processing: { threshold: HOUR, interval: HOUR } } }, hold)
})

function heapAfterGc () {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

const cpu = () => {
  const { user, system } = process.cpuUsage()
  return user + system
}

// One reply of each route outlives its phase, as in a server whose traffic never stops: otherwise the
// hidden classes of a phase's requests die at the next phase's forced collections, V8 drops the code
// specialised for them, and each phase pays for compiling its path again inside its windows.
const survivors = new Map()
function arrived (reply) {
  const p = phase
  if (p.arrivals === 0) {
    survivors.set(`${p.name} ${p.kind}`, reply)
    p.first = reply.request.arrival
  }
  if (++p.arrivals === p.n) {
    p.last = reply.request.arrival
    setImmediate(p.kind === 'heap' ? measureHeap : measureTiming)
  }
}

function measureHeap () {
  const p = phase
  p.metrics.heapPerRequest = (heapAfterGc() - p.metrics.heapIdle) / p.n
  process.send({ type: 'metrics', metrics: p.metrics })
  p.release()
}

/**
 * A timed phase, cut into four windows of this process's CPU time and the 102s written in each:
 *   setup     from 'ready' until every request has arrived (a setImmediate after the last)
 *   first     until a quarter interval after the last request's first 102 was due
 *   later     until a quarter interval before the first final response: no first 102, no answer
 *   teardown  until every response has been answered and SETTLE_MS more
 * With a ramp (first arrival to last) longer than an interval, later 102s land in the first and
 * teardown windows: they are taken out at the later window's price. A first 102 in the setup or later
 * window cannot be, and is reported (`overlap`).
 */
async function measureTiming () {
  const p = phase
  const m = p.metrics
  const t = () => ({ cpu: cpu(), firsts, laters })
  const marks = [p.start, t()]
  // Loop delay from here to the teardown: the waves of 102s, without the app's own bursts (N requests
  // parsed in one go, N final responses in one timer tick), which block the loop as long with no plugin.
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION })
  eld.enable()
  const b1 = p.last + threshold + interval / 4
  const b2 = Math.max(b1, p.first + sleepMs - interval / 4)
  await sleep(b1 - now())
  marks.push(t())
  await sleep(b2 - now())
  marks.push(t())
  eld.disable()
  await p.answeredAll
  await sleep(SETTLE_MS)
  marks.push(t())
  const windows = ['setup', 'first', 'later', 'teardown'].map((name, i) => ({
    name,
    us: marks[i + 1].cpu - marks[i].cpu,
    firsts: marks[i + 1].firsts - marks[i].firsts,
    laters: marks[i + 1].laters - marks[i].laters
  }))
  const [setup, first, later, teardown] = windows
  m.rampMs = p.last - p.first
  m.overlap = setup.firsts > 0 || later.firsts > 0 || b2 === b1
  m.per102Us = later.laters > 0 ? later.us / later.laters : NaN
  const price = Number.isFinite(m.per102Us) ? m.per102Us : 0
  m.setupUs = setup.us
  m.firstUs = first.us - first.laters * price
  m.teardownUs = teardown.us - teardown.laters * price
  m.firsts = windows.reduce((sum, w) => sum + w.firsts, 0)
  m.laters = windows.reduce((sum, w) => sum + w.laters, 0)
  m.laterWindowMs = b2 - b1
  m.laterUs = later.us
  // The histogram records the time between two of its ticks: the resolution is taken off.
  const delay = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION)
  m.eldP99 = delay(eld.percentile(99))
  m.eldMax = delay(eld.max)
  m.gcMaxMs = gcMaxMs
  process.send({ type: 'metrics', metrics: m })
}

process.on('message', (msg) => {
  if (msg.cmd === 'phase') {
    phase = { name: msg.name, kind: msg.kind, n: msg.n, arrivals: 0, answered: 0, first: 0, last: 0, metrics: {} }
    phase.released = new Promise((resolve) => { phase.release = resolve })
    phase.answeredAll = new Promise((resolve) => { phase.allAnswered = resolve })
    phase.metrics.heapIdle = heapAfterGc()
    // The forced collections above are the bench's own: not counted.
    gcMaxMs = 0
    if (msg.kind === 'timing') phase.start = { cpu: cpu(), firsts, laters }
    process.send({ type: 'ready' })
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})

await app.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
process.send({ type: 'listening', port: app.server.address().port })
