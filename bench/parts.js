// CPU per 102 taken apart at Node's own head writer (`res._writeRaw`), where the plugin's path and the
// hand-written reference's (bench/scale-server.js's /reference) meet: the plugin's transport hands it a
// pre-encoded Buffer, `res.writeProcessing()` a string. On real sockets (section 2) a 102 costs 14-41 µs,
// nearly all of it the write both make alike, and the part that differs drowns in its noise. Here each
// part is measured in one process, the plugin, the reference and a second copy of the reference (the A/A
// control) interleaved, each round in another order.
//
//   above: N requests wait on real `ServerResponse`s whose `_writeRaw` only counts, started 100 a
//          millisecond as a server reads them; the plugin through its own start(), the reference as
//          scale-server.js writes it (`setTimeout`, then `setInterval`, calling `res.writeProcessing()`,
//          cleared on 'close'). Per 102, over windows of ten intervals of the steady state (every request
//          past its first 102): the event loop's active time (`performance.eventLoopUtilization()`: the
//          main thread only, and everything it ran: timers, the scheduler, collections) and process CPU.
//   below: 1,000 responses held open on real loopback sockets (the client in this process, reading
//          outside the timed loops); per write, a synchronous loop of `_writeRaw(BARE_102)` (the plugin's
//          bytes) or `_writeRaw('HTTP/1.1 102 Processing\r\n\r\n', 'ascii')` (what `writeProcessing()`
//          hands it on every Node line), five writes to every response.
//
//   node --expose-gc bench/parts.js [--ns=100,1000,5000,10000,15000] [--rounds=16] [--waves=40]
//        [--interval=busy|<ms>] [--tick=<ms>] [--no-survivor] [--write-rounds=30]
// Prints markdown (`npm run bench:parts -- <flags>` builds dist/ first if it is stale).
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { internals, kState } from '../dist/lib/emitter.js'
import { pluginOptions, routeOptions } from '../dist/lib/options.js'
import { transportFor } from '../dist/lib/transport.js'
import { median } from './common.js'
import { summarize } from './stats.js'

const args = process.argv.slice(2)
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const ns = option('ns', '100,1000,5000,10000,15000').split(',').map(Number)
const rounds = Number(option('rounds', 16))
const waves = Number(option('waves', 40))
// The interval keeps the loop busy by default (10 ms, up to 60 at 15,000), so that a window holds
// hundreds of waves' worth of 102s; the scheduler then shares fewer wake-ups between requests than at a
// second (its window is a 64th of the interval), which can only cost the plugin. --interval=1000 measures
// at a second.
const intervalOption = option('interval', 'busy')
const intervalFor = (n) => intervalOption === 'busy' ? Math.max(10, Math.ceil(n / 250)) : Number(intervalOption)
const writeN = Number(option('write-n', 1000))
const writeRounds = Number(option('write-rounds', 30))
const PER_MS = 100
const KINDS = ['plugin', 'reference', 'twin']
const survive = !args.includes('--no-survivor')
// --tick=1: a no-op timer every millisecond, so that the loop never sleeps longer, whichever path runs.
const tick = Number(option('tick', 0))
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')

// ---- above the head writer --------------------------------------------------------------------------

let writes = 0
class CountingResponse extends http.ServerResponse {
  _writeRaw () {
    writes++
    return true
  }
}

const log = { trace () {}, debug () {}, info () {}, warn () {}, error () {}, level: 'info' }
const kHijacked = Symbol('hijacked')
// What the plugin reads of a Fastify reply, `sent` a getter as Fastify's is.
class Reply {
  constructor (raw, request) {
    this.raw = raw
    this.request = request
    this.elapsedTime = 0
    this[kHijacked] = false
    this[kState] = null
  }

  get sent () {
    return (this[kHijacked] || this.raw.writableEnded) === true
  }
}

function makeRequests (count) {
  const list = new Array(count)
  for (let i = 0; i < count; i++) {
    const raw = new http.IncomingMessage(null)
    raw.method = 'GET'
    raw.url = '/'
    raw.httpVersionMajor = 1
    raw.httpVersionMinor = 1
    raw.headers = { host: 'localhost' }
    const res = new CountingResponse(raw)
    const request = { raw, headers: raw.headers, log, signal: null }
    list[i] = new Reply(res, request)
  }
  return list
}

const defaults = pluginOptions({})
const transport = transportFor(makeRequests(1)[0].request.raw)

// scale-server.js's reference, twice: two closures of their own, as two routes would have.
function reference (delay, every) {
  return (res) => {
    let timer = setTimeout(() => {
      res.writeProcessing()
      timer = setInterval(() => { res.writeProcessing() }, every)
    }, delay)
    res.once('close', () => clearTimeout(timer))
  }
}
const STARTERS = {
  plugin: (delay, every) => {
    const options = routeOptions(defaults, { threshold: delay, interval: every, limit: 100_000 }, `GET /plugin${every}`)
    return (reply) => internals.start(reply, options, transport)
  },
  reference,
  twin: reference
}
// An answered request: the plugin's onSend stops it, then the response closes; the reference hears 'close'.
function end (reply) {
  const state = reply[kState]
  if (state !== null) internals.stop(state)
  reply.raw.emit('close')
}

const survivors = []
async function above (kind, n, { delay, every, count }) {
  const startOne = STARTERS[kind](delay, every)
  const replies = makeRequests(n)
  globalThis.gc()
  for (let i = 0; i < n; i += PER_MS) {
    for (let j = i; j < Math.min(n, i + PER_MS); j++) startOne(kind === 'plugin' ? replies[j] : replies[j].raw)
    await sleep(1)
  }
  // Every request past its first 102.
  await sleep(delay + every / 2)
  // Windows of up to ten intervals: the median over them, so that a collection in one does not decide
  // the phase, and long enough that a wave's place in them does not move the count.
  const span = Math.min(10, count)
  const active = []
  const cpu = []
  let sent = 0
  const t = performance.now()
  for (let w = 1; w <= count / span; w++) {
    const w0 = writes
    const elu0 = performance.eventLoopUtilization()
    const cpu0 = process.cpuUsage()
    await sleep(t + w * span * every - performance.now())
    const elu = performance.eventLoopUtilization(elu0)
    const used = process.cpuUsage(cpu0)
    const written = writes - w0
    active.push(1000 * elu.active / written)
    cpu.push((used.user + used.system) / written)
    sent += written
  }
  for (const reply of replies) end(reply)
  // One reply of each phase outlives it, as in a server whose traffic never stops: were every object of
  // a shape to die, the next collection would throw away the code compiled for that shape, and the next
  // phase would pay for compiling it again inside its windows.
  if (survive) survivors.push(replies[0])
  return { activeUs: median(active), cpuUs: median(cpu), sent, expected: n * count }
}

// ---- the head writer and below ----------------------------------------------------------------------

const BARE_102 = Buffer.from('HTTP/1.1 102 Processing\r\n\r\n', 'latin1')
const WRITES = {
  plugin: (res) => res._writeRaw(BARE_102),
  reference: (res) => res._writeRaw('HTTP/1.1 102 Processing\r\n\r\n', 'ascii'),
  twin: (res) => res._writeRaw('HTTP/1.1 102 Processing\r\n\r\n', 'ascii')
}

async function below () {
  const held = []
  const server = http.createServer((req, res) => { held.push(res) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  const sockets = []
  for (let i = 0; i < writeN; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.on('data', () => {})
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
    sockets.push(socket)
    if (i % 100 === 99) await sleep(1)
  }
  while (held.length < writeN) await sleep(5)
  const passes = 5
  const time = (kind) => {
    const write = WRITES[kind]
    const t0 = performance.now()
    for (let p = 0; p < passes; p++) for (let i = 0; i < held.length; i++) write(held[i])
    return 1000 * (performance.now() - t0) / (passes * held.length)
  }
  const out = { plugin: [], reference: [], twin: [] }
  for (let r = -3; r < writeRounds; r++) {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(r + 3 + k) % 3]
      globalThis.gc()
      const us = time(kind)
      if (r >= 0) out[kind].push(us)
      await sleep(20)
    }
  }
  for (const socket of sockets) socket.destroy()
  server.close()
  return out
}

// ---- the run ----------------------------------------------------------------------------------------

const fmt = (x, digits = 2) => Number.isFinite(x) ? x.toFixed(digits) : '–'
const range = (values, digits = 2) => `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`
const ratios = (a, b) => a.map((x, i) => x / b[i])
const interval95 = (values) => {
  const s = summarize(values)
  return `${fmt(s.median, 3)} [${fmt(s.lo, 3)}, ${fmt(s.hi, 3)}]`
}

const t0 = Date.now()
console.error(`parts: ${process.version}, N ${ns.join(', ')}, ${rounds} rounds, ${waves} waves, interval ${intervalOption}`)
// A server that has been up a while: every path compiled at volume before anything is counted.
for (const kind of KINDS) await above(kind, 2000, { delay: 10, every: 10, count: 100 })

const ticking = tick > 0 ? setInterval(() => {}, tick) : null
const rows = []
for (const n of ns) {
  const byKind = { plugin: [], reference: [], twin: [] }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(r + k) % KINDS.length]
      byKind[kind].push(await above(kind, n, { delay: intervalFor(n), every: intervalFor(n), count: waves }))
    }
  }
  rows.push({ n, byKind })
  console.error(`parts: N = ${n} done, ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}
clearInterval(ticking)
const writesBelow = writeRounds > 0 ? await below() : { plugin: [], reference: [], twin: [] }

const lines = []
lines.push(`Command: \`${['node --expose-gc bench/parts.js', ...args].join(' ')}\`; ${process.version}; ${((Date.now() - t0) / 1000).toFixed(0)} s`, '')
lines.push(`**Above the head writer** (${waves} waves of the steady state a phase, threshold = interval, ${rounds} rounds` +
  `${tick > 0 ? `, a no-op timer every ${tick} ms` : ''}${survive ? '' : ', no reply outliving its phase'}): µs per 102, the median over the ` +
  `phase's windows of ${Math.min(10, waves)} intervals, then median (range) over rounds; ratios per round, median [95 % bootstrap interval].`, '')
lines.push('| N | interval ms | 102s counted, least / expected | active µs per 102: plugin | reference | twin | **plugin ÷ reference** | A/A: twin ÷ reference | process CPU µs per 102: plugin ÷ reference | A/A |')
lines.push('|---|---|---|---|---|---|---|---|---|---|')
for (const { n, byKind } of rows) {
  const of = (kind, key) => byKind[kind].map((p) => p[key])
  lines.push(`| ${n.toLocaleString('en')} | ${intervalFor(n)} | ${Math.min(...of('plugin', 'sent'))} / ${byKind.plugin[0].expected} | ${range(of('plugin', 'activeUs'))} | ` +
    `${range(of('reference', 'activeUs'))} | ${range(of('twin', 'activeUs'))} | **${interval95(ratios(of('plugin', 'activeUs'), of('reference', 'activeUs')))}** | ` +
    `${interval95(ratios(of('twin', 'activeUs'), of('reference', 'activeUs')))} | ${interval95(ratios(of('plugin', 'cpuUs'), of('reference', 'cpuUs')))} | ` +
    `${interval95(ratios(of('twin', 'cpuUs'), of('reference', 'cpuUs')))} |`)
}
lines.push('', `**The head writer and below** (${writeN.toLocaleString('en')} responses on loopback sockets, ${writeRounds} rounds of 5 writes to each): µs per write.`, '')
lines.push('| plugin: `_writeRaw(Buffer)` | reference: `_writeRaw(string, \'ascii\')` | twin | **plugin ÷ reference** | A/A: twin ÷ reference |')
lines.push('|---|---|---|---|---|')
lines.push(`| ${range(writesBelow.plugin)} | ${range(writesBelow.reference)} | ${range(writesBelow.twin)} | ` +
  `**${interval95(ratios(writesBelow.plugin, writesBelow.reference))}** | ${interval95(ratios(writesBelow.twin, writesBelow.reference))} |`)
console.log(lines.join('\n'))
