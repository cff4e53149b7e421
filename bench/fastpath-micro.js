// The opted-in route's per-request work in a loop, without sockets: real IncomingMessage/ServerResponse
// objects (fresh per request, as on the wire), the plugin's own route hooks, and a reply with Fastify's
// elapsedTime getter. Each variant's time less the floor's (a shared 'close' listener, as /hooksclose)
// is what the plugin adds in JS; the fast-path benchmark stays the judge, this only says where it goes.
// Figures are ns per request on this machine, medians over rounds with a 95 % bootstrap interval.
//   node bench/fastpath-micro.js [--rounds N] [--n N]
//   BASE=<dist dir whose imports resolve, e.g. a copy next to node_modules> adds that build as "base";
//   ONLY=plugin,base runs only those variants (and the floor), so no other variant's shapes reach shared code.
import { IncomingMessage, ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import { kState, routeHooks, scheduler } from '../dist/lib/emitter.js'
import { pluginOptions, routeOptions } from '../dist/lib/options.js'
import { summarize } from './stats.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, n: { type: 'string', default: '200000' } } })
const ROUNDS = Number(values.rounds)
const N = Number(values.n)

const options = routeOptions(pluginOptions({}), true, 'GET /opted')
const hooks = routeHooks(options)
const base = process.env.BASE ? await import(`${process.env.BASE}/lib/emitter.js`) : null
const baseOptions = base && (await import(`${process.env.BASE}/lib/options.js`)).routeOptions(pluginOptions({}), true, 'GET /opted')
const baseHooks = base && base.routeHooks(baseOptions)
const socket = { on () {}, once () {}, writable: true }
const kStart = Symbol('start')
// What request.log is with `logger: false` (Fastify's abstract-logging): every level a no-op.
const nullLogger = { debug () {}, trace () {}, warn () {} }
const noop = () => {}
const done = () => {}
const doneSend = () => {}

class Reply {
  constructor (raw) {
    this.raw = raw
    this[kStart] = undefined
    this[kState] = null
  }

  // Fastify's getter: 0 unless a logger or onResponse hook made it time the request.
  get elapsedTime () {
    if (this[kStart] === undefined) return 0
    return performance.now() - this[kStart]
  }
}

function fresh () {
  const req = new IncomingMessage(socket)
  req.httpVersionMajor = 1
  req.httpVersionMinor = 1
  req.complete = true
  const res = new ServerResponse(req)
  return { req, res, request: { raw: req, log: nullLogger }, reply: new Reply(res) }
}

const variants = {
  floor ({ res }) {
    res.on('close', noop)
  },
  plugin ({ request, reply }) {
    hooks.onRequest(request, reply, done)
    hooks.onSend(null, reply, 'x', doneSend)
  },
  base ({ request, reply }) {
    reply[base.kState] = null
    baseHooks.onRequest(request, reply, done)
    baseHooks.onSend(null, reply, 'x', doneSend)
  },
  timer ({ res }) {
    res.on('close', noop)
    clearTimeout(setTimeout(noop, 1000).unref())
  },
  now2 ({ res }) {
    res.on('close', noop)
    if (performance.now() + performance.now() < 0) throw new Error()
  }
}

const only = process.env.ONLY ? new Set(['floor', ...process.env.ONLY.split(',')]) : null
const names = Object.keys(variants).filter((name) => (name !== 'base' || base !== null) && (only === null || only.has(name)))
const perRound = []
for (let round = 0; round < ROUNDS + 2; round++) {
  const figures = {}
  for (const name of names.sort(() => Math.random() - 0.5)) {
    const fn = variants[name]
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) {
      const r = fresh()
      fn(r)
      r.res.emit('close')
    }
    figures[name] = Number(process.hrtime.bigint() - t0) / N
  }
  if (round >= 2) perRound.push(figures)
}
if (scheduler.size !== 0) throw new Error('requests left in the schedule')
const floor = summarize(perRound.map((r) => r.floor))
console.log(`floor ${floor.median.toFixed(0)} ns/request`)
for (const name of names) {
  if (name === 'floor') continue
  const s = summarize(perRound.map((r) => r[name] - r.floor))
  console.log(`${name} - floor: ${s.median.toFixed(0)} ns [${s.lo.toFixed(0)}, ${s.hi.toFixed(0)}]`)
}
