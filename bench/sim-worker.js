// One level of the socket-free simulation, in its own process (run with --expose-gc):
//   node --expose-gc bench/sim-worker.js '{"n":100000,"threshold":1000,"interval":1000,"waves":4}'
// N requests start at the same instant (the worst burst: every 102 of a wave is due in the same
// millisecond) through the emitter's own startProcessing(), scheduled by the real scheduler, and a
// counting transport stands in for the sockets. Printed as one JSON line:
//   heap per pending request  (heap with N pending, after GC, minus the same N fake requests idle) / N
//   CPU per 102               process CPU over the waves of the CPU window / 102s counted in it
//   time per 102              the time spent inside the scheduler's slices (its diagnostics channel) over the
//                             102s written in them: the process's background work, which dominates the
//                             CPU figure at small N, is left out; the floor's is timed the same way
//   longest slice             the longest slice the scheduler reported: the longest it blocked the loop
//   loop delay                monitorEventLoopDelay over the later waves (none of it in the CPU window)
//   lateness, gap error       per 102: write time - due time; gap between a request's consecutive 102s
//                             minus the interval
// A floor is measured in the same process: the same counting write, called in one plain loop.
import { subscribe } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { internals, kState } from '../dist/lib/emitter.js'
const { scheduler, start: startProcessing, stop: stopProcessing } = internals
import { pluginOptions, routeOptions } from '../dist/lib/options.js'
import { Histogram } from './common.js'

const { n, threshold, interval, waves, cpuWaves = 2 } = JSON.parse(process.argv[2])
const HOUR = 3_600_000

const log = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }

let writes = 0
let lateness = null
let gaps = null
const transport = {
  received () { return true },
  open () { return true },
  write (res) {
    writes++
    const t = performance.now()
    res.count++
    if (lateness !== null) {
      lateness.add(t - res.reply[kState].due)
      if (res.last > 0) gaps.add(t - res.last - interval)
    }
    res.last = t
  }
}

function makeRequests (count) {
  const list = new Array(count)
  for (let i = 0; i < count; i++) {
    const raw = new EventEmitter()
    raw.count = 0
    raw.last = 0
    const request = { raw: { headers: {} }, headers: {}, log, signal: null }
    const reply = { raw, sent: false, request, elapsedTime: 0, [kState]: null }
    raw.reply = reply
    list[i] = reply
  }
  return list
}

function heapAfterGc () {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

// Every slice, the timer's and setImmediate's alike, is reported on the scheduler's channel.
let sliceMs = 0
let longestSlice = 0
subscribe('fastify-processing:scheduler-slice', ({ start, end }) => {
  sliceMs += end - start
  if (end - start > longestSlice) longestSlice = end - start
})

const defaults = pluginOptions({})
// Held requests get their first 102 at once, then wait an hour for the next: between two 102s, holding
// all a waiting request holds (its 'close' listener is added at its first 102).
const hold = routeOptions(defaults, { threshold: 1, interval: HOUR }, 'GET /hold')
const timed = routeOptions(defaults, { threshold, interval, limit: 1000 }, 'GET /sim')

// Warm-up: the first calls compile the emitter and allocate its inline caches, which would otherwise be
// billed to the heap of a small N; and three short waves of 5,000 get the firing path optimised, as in a
// server that has been up for a while (at N = 100 the measured waves alone run it interpreted: about
// 10 µs a 102 instead of under 1).
for (const reply of makeRequests(2000)) stopProcessing(startProcessing(reply, hold, transport))
// (In a function: a block at the top level of a module that awaits keeps its variables alive.)
async function warmUp () {
  const warm = routeOptions(defaults, { threshold: 5, interval: 5, limit: 3 }, 'GET /warm')
  const started = makeRequests(5000).map((reply) => startProcessing(reply, warm, transport))
  while (scheduler.size > 0) await sleep(5)
  for (const state of started) stopProcessing(state)
}
await warmUp()
writes = 0

// Heap: N requests pending, as between two 102s. Below 10,000 the difference is a few hundred KB at most
// and a GC's leftovers move it by tens: the median of several measurements.
async function heapOnce () {
  const replies = makeRequests(n)
  const idle = heapAfterGc()
  const states = replies.map((reply) => startProcessing(reply, hold, transport))
  while (states.some((state) => state.sent === 0)) await sleep(2)
  const pending = heapAfterGc()
  for (const state of states) stopProcessing(state)
  if (scheduler.size !== 0) throw new Error(`scheduler still holds ${scheduler.size} after stopping every request`)
  return (pending - idle) / n
}
const heapSamples = []
for (let i = 0; i < (n < 10_000 ? 7 : 1); i++) heapSamples.push(await heapOnce())
heapSamples.sort((a, b) => a - b)
const heapPerRequest = heapSamples[heapSamples.length >> 1]

// Floor: the counting write alone, in one plain loop over N fresh responses.
const replies = makeRequests(n)
const floorCpu0 = process.cpuUsage()
const floorT0 = performance.now()
for (let k = 0; k < 3; k++) for (let i = 0; i < n; i++) transport.write(replies[i].raw, [])
const floorTimeUs = 1000 * (performance.now() - floorT0) / (3 * n)
const floorCpu = process.cpuUsage(floorCpu0)
const floorUs = (floorCpu.user + floorCpu.system) / (3 * n)
for (const r of replies) { r.raw.count = 0; r.raw.last = 0 }
writes = 0
heapAfterGc()

// The burst: every request starts "at" t0, whatever time the loop below takes to start them all.
const states = new Array(n)
const t0 = performance.now()
for (let i = 0; i < n; i++) {
  replies[i].elapsedTime = performance.now() - t0
  states[i] = startProcessing(replies[i], timed, transport)
}
const startMs = performance.now() - t0
if (startMs > threshold - 100) throw new Error(`starting ${n} requests took ${startMs.toFixed(0)} ms, past the threshold`)
lateness = new Histogram()
gaps = new Histogram()

// CPU window: waves 1..cpuWaves (from 50 ms before the first is due to 50 ms before the next one after).
await sleep(t0 + threshold - 50 - performance.now())
longestSlice = 0
const w0 = writes
sliceMs = 0
const cpu0 = process.cpuUsage()
await sleep(t0 + threshold + cpuWaves * interval - 50 - performance.now())
const cpu = process.cpuUsage(cpu0)
const cpuWindowWrites = writes - w0
const timePer102Us = 1000 * sliceMs / cpuWindowWrites
// Loop delay over the remaining waves.
const eld = monitorEventLoopDelay({ resolution: 1 })
eld.enable()
await sleep(t0 + threshold + (waves - 1) * interval + 400 - performance.now())
eld.disable()
// Each 102 counts from the previous write, so a wave of a million, written over a few hundred ms, ends
// that much later than a fixed schedule would: wait for the last request's last 102 (an interval at most).
const until = performance.now() + interval
const allSent = () => writes >= n * waves
while (!allSent() && performance.now() < until) await sleep(10)
const endOfWaves = writes

// Every request ends: its final response stops it.
for (const s of states) stopProcessing(s)
let complete = 0
for (const r of replies) if (r.raw.count >= waves) complete++

const delay = (ns) => Math.max(0, ns / 1e6 - 1)
console.log(JSON.stringify({
  n,
  node: process.version,
  heapPerRequest,
  startMs,
  floorUs,
  cpuPer102Us: (cpu.user + cpu.system) / cpuWindowWrites,
  timePer102Us,
  floorTimeUs,
  cpuWindowWrites,
  writes: endOfWaves,
  expected: n * waves,
  complete,
  leftInScheduler: scheduler.size,
  longestSliceMs: longestSlice,
  eldP99: delay(eld.percentile(99)),
  eldMax: delay(eld.max),
  lateP50: lateness.percentile(50),
  lateP99: lateness.percentile(99),
  lateMax: lateness.max,
  gapP50: gaps.percentile(50),
  gapP99: gaps.percentile(99),
  gapMax: gaps.max,
  heapTotalMiB: process.memoryUsage().heapTotal / 2 ** 20
}))
