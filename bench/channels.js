// What the diagnostics channels cost per 102, with and without a subscriber, in one process:
//   npm run bench:channels            (after a build; writes nothing, prints a table and a JSON line)
// N requests wait in the real emitter and scheduler with a counting transport standing in for the sockets
// (as in sim-worker.js). Each round starts them, lets two waves of 102s go out, and times the scheduler's
// slices (its own channel) per 102 written. Rounds alternate: nobody subscribed to
// fastify-processing:sent / :withheld, then a subscriber that counts per route, in a shuffled order.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { internals } from '../dist/lib/emitter.js'
import { pluginOptions, routeOptions } from '../dist/lib/options.js'

const N = Number(process.env.N ?? 10_000)
const ROUNDS = Number(process.env.ROUNDS ?? 12)
const { start, stop, scheduler } = internals
const log = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }
const transport = { received: () => true, open: () => true, write () {} }
const options = routeOptions(pluginOptions({}), { threshold: 200, interval: 200, limit: 2 }, 'GET /bench')

let sliceMs = 0
subscribe('fastify-processing:scheduler-slice', ({ start, end }) => { sliceMs += end - start })
const perRoute = new Map()
const onSent = ({ route }) => { perRoute.set(route, (perRoute.get(route) ?? 0) + 1) }
const onWithheld = ({ route, reason }) => { perRoute.set(`${route} ${reason}`, (perRoute.get(`${route} ${reason}`) ?? 0) + 1) }

async function round (subscribed) {
  if (subscribed) {
    subscribe('fastify-processing:sent', onSent)
    subscribe('fastify-processing:withheld', onWithheld)
  }
  const states = []
  for (let i = 0; i < N; i++) {
    const request = { raw: { headers: {} }, headers: {}, log }
    const reply = { raw: new EventEmitter(), sent: false, request, elapsedTime: 0 }
    states.push(start(reply, options, transport))
  }
  sliceMs = 0
  while (scheduler.size > 0) await sleep(20)
  const sent = states.reduce((sum, s) => sum + s.sent, 0)
  for (const s of states) stop(s)
  if (subscribed) {
    unsubscribe('fastify-processing:sent', onSent)
    unsubscribe('fastify-processing:withheld', onWithheld)
  }
  return 1000 * sliceMs / sent
}

const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1]
await round(false)
await round(true)
const off = []
const on = []
const ratios = []
for (let r = 0; r < ROUNDS; r++) {
  // Each pair in a random order, so that neither side always runs second.
  const first = Math.random() < 0.5
  const a = await round(first)
  const b = await round(!first)
  const [without, withSub] = first ? [b, a] : [a, b]
  off.push(without)
  on.push(withSub)
  ratios.push(withSub / without)
}
const range = (list) => `${Math.min(...list).toFixed(3)}–${Math.max(...list).toFixed(3)}`
console.log(`N = ${N}, ${ROUNDS} pairs of rounds, 2 102s per request, Node ${process.version}`)
console.log('| | µs per 102 in the scheduler\'s slices, median (range) |')
console.log('|---|---|')
console.log(`| nobody subscribed | ${median(off).toFixed(3)} (${range(off)}) |`)
console.log(`| a subscriber counting per route on :sent and :withheld | ${median(on).toFixed(3)} (${range(on)}) |`)
console.log(`| with ÷ without, per pair | ${median(ratios).toFixed(3)} (${range(ratios)}) |`)
console.log(JSON.stringify({ n: N, rounds: ROUNDS, withoutUs: median(off), withUs: median(on), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) }))
