// What a 102 costs the emitter by itself, first and later ones apart, with no socket: N requests start at
// once (threshold and interval 300 ms) and a counting transport stands in for the writes. The first 102
// of a request also asks the gate and adds the response's 'close' listener; the later ones only write and
// reschedule. Three rounds after a warm-up; the time is inside the scheduler's slices (its channel).
//   npm run bench:first-wave -- 1000000
import { subscribe } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { internals, kState } from '../dist/lib/emitter.js'
import { pluginOptions, routeOptions } from '../dist/lib/options.js'

const { start, stop } = internals
const n = Number(process.argv[2] ?? 1_000_000)
const LATER = 4
const log = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }
let writes = 0
// Resolves once `count` 102s have been written since it was called (writes are counted in the transport).
const written = async (count) => {
  const until = writes + count
  for (;;) {
    if (writes >= until) return
    await sleep(5)
  }
}
const transport = { received () { return true }, open () { return true }, write () { writes++ } }

function replies (count) {
  const list = new Array(count)
  for (let i = 0; i < count; i++) {
    const request = { raw: { headers: {} }, headers: {}, log, signal: null }
    list[i] = { raw: new EventEmitter(), sent: false, request, elapsedTime: 0, [kState]: null }
  }
  return list
}

let sliceMs = 0
subscribe('fastify-processing:scheduler-slice', ({ start, end }) => { sliceMs += end - start })
const defaults = pluginOptions({})
const us = (ms, count) => (1000 * ms / count).toFixed(3)
console.log(`N = ${n}, ${process.version}: µs per 102 inside the scheduler's slices`)
for (let round = 0; round <= 3; round++) {
  const count = round === 0 ? 20_000 : n
  const options = routeOptions(defaults, { threshold: 300, interval: 300 }, `GET /round${round}`)
  const list = replies(count)
  globalThis.gc()
  const states = list.map((reply) => start(reply, options, transport))
  sliceMs = 0
  await written(count)
  const first = sliceMs
  sliceMs = 0
  await written(LATER * count)
  for (const state of states) stop(state)
  if (round > 0) console.log(`round ${round}: first 102 ${us(first, count)}, later 102s ${us(sliceMs, LATER * count)}`)
}
