// The server of the scale benchmark. One Fastify app, two routes that each sleep `sleep` ms, and the
// load client sends N requests to one of them per phase, over the same N keep-alive connections:
//   /plugin  this plugin (dist/), in its own encapsulated scope: threshold and interval from argv
//   /reference  no plugin: what a user would write instead of it, a setTimeout per request, then a
//            setInterval, each calling res.writeProcessing(); cleared when the response closes. The bar
//   /reference-twin  the same again, for the A/A control (`--aa`)
//   /bare    no plugin at all (the root scope has neither its hooks nor its decorators); the bench
//            sends 102s with bare writes in one loop per interval: the floor of CPU per 102
// and a `-hold` twin of each for the heap phases. Run with --expose-gc. The parent drives it over IPC:
// {cmd: 'phase', name, kind: 'timing' | 'heap', n}; it answers {type: 'ready'} once the idle heap is
// measured, and {type: 'metrics'} once the phase's figures are in.
import Fastify from 'fastify'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { subscribe } from 'node:diagnostics_channel'
import { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import processing from '../dist/index.js'
import { Histogram, machineBusyMs, median, now } from './common.js'

const { threshold, interval, sleep: sleepMs } = JSON.parse(process.argv[2])
const ELD_RESOLUTION = 2
// Ends the measurement windows this long before the first final response is due.
const TAIL_MARGIN = 300

let phase = null

// The gap between two consecutive 102s of one response as the server wrote them, minus the interval: the
// emitter's own regularity, without the load client's scheduling (it shares 2 cores with this process,
// and stamps what it reads late when it is descheduled).
let gaps = new Histogram()
let gapUntil = Infinity
// Node's writer of raw head bytes carries every 102 on every line here (writeProcessing and
// writeInformation both end in it).
const writeRaw = ServerResponse.prototype._writeRaw
const PROCESSING = 'HTTP/1.1 102'
// The same wrapper counts the 102s of every phase, so that the three pay the same for being counted.
let written = 0
ServerResponse.prototype._writeRaw = function (data, ...rest) {
  // A Buffer (the plugin's header-less 102) is read in place: "102" at bytes 9-11, no allocation per write.
  if (typeof data === 'string' ? data.startsWith(PROCESSING) : data[9] === 0x31 && data[10] === 0x30 && data[11] === 0x32) {
    written++
    // Gaps only in the steady state: the 102 due as the handler wakes races with N final responses, as in
    // the client's figures, which leave it out too.
    const t = now()
    if (t < gapUntil) {
      if (this.lastProcessing > 0) gaps.add(t - this.lastProcessing - interval)
      this.lastProcessing = t
    }
  }
  return writeRaw.call(this, data, ...rest)
}
// The scheduler's slices (its diagnostics channel): the longest the plugin kept the loop.
let longestSlice = 0
subscribe('fastify-processing:scheduler-slice', ({ start, end }) => { if (end - start > longestSlice) longestSlice = end - start })
// Garbage-collection pauses during a phase: the loop stops for them, and so do the 102s.
let gcMaxMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.duration > gcMaxMs) gcMaxMs = entry.duration
}).observe({ entryTypes: ['gc'] })

const app = Fastify({ logger: false })
app.decorateRequest('arrival', 0)
// Root hook: runs first on every route, before the plugin's own onRequest, in every phase alike.
app.addHook('onRequest', (request, reply, done) => {
  request.arrival = now()
  // The gap histogram's field, on every response from its arrival: added at the first 102 instead, it
  // would change the response's shape in the middle of a wave, and every compiled function that reads
  // responses would be thrown away and compiled again inside the measured windows.
  reply.raw.lastProcessing = 0
  if (phase !== null) arrived(reply)
  done()
})

async function handler (request, reply) {
  await sleep(sleepMs)
  phase?.pending.delete(reply)
  return `{"arrival":${request.arrival}}`
}

// Heap phases: the requests wait until the heap has been measured, between two 102s: each writes one 102
// as it starts (the plugin's through reply.processing(), which also adds its 'close' listener), and the
// next is an hour away, so the forced GC delays no 102.
async function hold (request, reply) {
  if (request.routeOptions.config.processing) reply.processing()
  else reply.raw.writeProcessing()
  await phase.released
  phase.pending.delete(reply)
  return `{"arrival":${request.arrival}}`
}

// The hand-written reference: one Timeout per request, re-armed as an interval after the first 102.
function reference (threshold) {
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
app.get('/bare', handler)
app.get('/bare-hold', hold)
app.get('/reference', { onRequest: reference(threshold) }, handler)
app.get('/reference-twin', { onRequest: reference(threshold) }, handler)
app.get('/reference-hold', { onRequest: reference(HOUR) }, hold)
await app.register(async (scope) => {
  await scope.register(processing, { threshold, interval, limit: 1000 })
  scope.get('/plugin', { config: { processing: true } }, handler)
  scope.get('/plugin-hold', { config: { processing: { threshold: HOUR, interval: HOUR } } }, hold)
})

let floorTimer = null
function floorTick () {
  const t = now()
  for (const reply of phase.pending) {
    if (t - reply.request.arrival >= threshold - 1) {
      if (typeof reply.raw.writeInformation === 'function') reply.raw.writeInformation(102, {})
      else reply.raw.writeProcessing()
    }
  }
}

function heapAfterGc () {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

// One reply of each route outlives its phase, as in a server whose traffic never stops. Without it every
// response, request and socket of a phase is dead at the next phase's forced collections, their hidden
// classes die with them, and V8 discards the compiled code that was specialised for them: each phase then
// paid for compiling its path again inside its measured windows (a plugin phase on Node 20 at N = 1,000:
// 10-20 ms of TurboFan per window, by --trace-opt), the longer path the more.
const survivors = new Map()
function arrived (reply) {
  const p = phase
  if (p.arrivals === 0) survivors.set(`${p.name} ${p.kind}`, reply)
  p.pending.add(reply)
  p.arrivals++
  if (p.arrivals === 1) {
    p.first = reply.request.arrival
    gapUntil = p.first + sleepMs - TAIL_MARGIN
  }
  if (p.arrivals === p.n) {
    p.last = reply.request.arrival
    setImmediate(measure)
  }
}

async function measure () {
  const p = phase
  const m = p.metrics
  m.rampMs = p.last - p.first
  if (p.kind === 'heap') {
    const gcStart = now()
    m.heapPending = heapAfterGc()
    m.gcMs = now() - gcStart
    m.heapPerRequest = (m.heapPending - m.heapIdle) / p.n
    process.send({ type: 'metrics', phase: p.name, metrics: m })
    p.release()
    return
  }

  // Steady state: every request has had its first 102, and none has had its final response.
  const start = p.last + threshold + 50
  const end = p.first + sleepMs - TAIL_MARGIN
  // Whole intervals for the CPU windows (each holds one wave), about 60 % of the steady state; the rest
  // for the loop delay.
  const windows = Math.max(1, Math.floor(0.6 * (end - start) / interval))
  const split = Math.min(end - 100, start + windows * interval)
  m.windowMs = end - start
  if (end - start < 200) {
    m.error = `ramp of ${m.rampMs.toFixed(0)} ms leaves no steady-state window`
    process.send({ type: 'metrics', phase: p.name, metrics: m })
    return
  }
  await sleep(Math.max(0, start - now()))

  // CPU per 102 first, while nothing else runs in this process but the 102s: the median over the
  // windows, so that a GC landing in one of them does not decide the figure.
  const count = () => written
  const per = []
  let cpuUs = 0
  const busy0 = machineBusyMs()
  const t0 = now()
  for (let w = 1; w <= windows; w++) {
    const sent0 = count()
    const cpu0 = process.cpuUsage()
    await sleep(start + w * (split - start) / windows - now())
    const cpu1 = process.cpuUsage(cpu0)
    const sent = count() - sent0
    cpuUs += cpu1.user + cpu1.system
    if (sent > 0) per.push((cpu1.user + cpu1.system) / sent)
  }
  const t1 = now()
  m.cpuWindows = per.length
  m.cpuPer102Us = median(per)
  // CPU used by every other process (the load client included) during the windows, in cores.
  m.othersCores = (machineBusyMs() - busy0 - cpuUs / 1000) / (t1 - t0)

  // Event-loop delay in the rest (the histogram's own timer stays out of the CPU figure).
  const h = monitorEventLoopDelay({ resolution: ELD_RESOLUTION })
  h.enable()
  await sleep(end - now())
  h.disable()
  // The histogram records the time between two of its ticks: subtract the resolution to get the delay.
  const delay = (ns) => Math.max(0, ns / 1e6 - ELD_RESOLUTION)
  m.eldP50 = delay(h.percentile(50))
  m.eldP99 = delay(h.percentile(99))
  m.eldMax = delay(h.max)
  m.eldSamples = h.count
  m.serverGapP99 = gaps.percentile(99)
  m.serverGapMax = gaps.max
  // The scheduler's longest slice and the GC pauses, over the whole timed phase.
  m.longestSliceMs = longestSlice
  m.gcMaxMs = gcMaxMs
  process.send({ type: 'metrics', phase: p.name, metrics: m })
}

process.on('message', (msg) => {
  if (msg.cmd === 'phase') {
    if (floorTimer !== null) clearInterval(floorTimer)
    floorTimer = null
    phase = { name: msg.name, kind: msg.kind, n: msg.n, arrivals: 0, first: 0, last: 0, pending: new Set(), metrics: {} }
    phase.released = new Promise((resolve) => { phase.release = resolve })
    gaps = new Histogram()
    gapUntil = Infinity
    longestSlice = 0
    phase.metrics.heapIdle = heapAfterGc()
    // The forced collections above are the bench's own: not counted.
    gcMaxMs = 0
    if (msg.name === 'bare' && msg.kind === 'timing') {
      floorTimer = setInterval(floorTick, interval)
    }
    process.send({ type: 'ready' })
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})

await app.listen({ host: '127.0.0.1', port: 0, backlog: 4096 })
process.send({ type: 'listening', port: app.server.address().port })
