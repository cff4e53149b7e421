// `node --expose-gc bench/heap-parts.js`: what each piece of per-request state costs on the heap, in
// isolation (100,000 of each, after GC). It explains the scale benchmark's bytes per pending request:
// the plugin keeps a RequestState, a Timeout (with its argument array) and a `res.once('close')`
// closure per request.
import { EventEmitter } from 'node:events'

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(1)
}

const N = 100_000
const keep = new Array(N)
const noop = () => {}

function heap () {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

function bytesEach (make) {
  keep.fill(null)
  const before = heap()
  for (let i = 0; i < N; i++) keep[i] = make(i)
  const bytes = (heap() - before) / N
  for (const x of keep) if (x !== null && typeof x === 'object' && typeof x.hasRef === 'function') clearTimeout(x)
  return bytes
}

// The same fields as the plugin's RequestState (lib/emitter.ts).
class RequestState {
  sent = 0
  timer = null
  due = 0
  gate = 0
  stopped = false
  constructor (request, reply, options, transport) {
    this.request = request
    this.reply = reply
    this.options = options
    this.transport = transport
  }
}

// The prototype's per-request state (bench/alt-emitter.js).
class AltState {
  due = 0
  sent = 0
  queue = null
  prev = null
  next = null
  constructor (res) {
    this.res = res
  }
}

const HOUR = 3_600_000
const SHARED = {}
const withListener = () => {
  const e = new EventEmitter()
  e.on('close', noop)
  return e
}
const rows = [
  ['RequestState (plugin)', () => new RequestState(null, null, null, null)],
  ['setTimeout(fn, ms, state).unref() (plugin)', (i) => setTimeout(noop, HOUR, i).unref()],
  ['setTimeout(closure, ms).unref()', (i) => setTimeout(() => i, HOUR).unref()],
  ['emitter.once(\'close\', closure), one listener there (plugin)', () => {
    const e = withListener()
    const state = SHARED // the state itself is counted above; the closure's context is not
    e.once('close', () => state)
    return e
  }, withListener],
  ['emitter.on(\'close\', shared function), one listener there', () => {
    const e = withListener()
    e.on('close', noop)
    return e
  }, withListener],
  ['AltState (prototype)', (i) => new AltState(null)]
]

console.log('| per request | bytes |')
console.log('|---|---|')
for (const [name, make, base] of rows) {
  let bytes = bytesEach(make)
  if (base !== undefined) bytes -= bytesEach(base)
  console.log(`| ${name} | ${bytes.toFixed(0)} |`)
}
