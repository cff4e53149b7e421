// Helpers shared by the benchmark processes: child processes with an IPC channel, and statistics.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'

/** Milliseconds on CLOCK_MONOTONIC: the same clock in every process on this machine. */
export function now () {
  return Number(process.hrtime.bigint()) / 1e6
}

export function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Sorted copy, then the p-th percentile (0..100) by nearest rank. */
export function percentile (values, p) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export function median (values) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * A Node child process with an IPC channel. `messages` queues what it sends, so a message is never lost
 * between two awaits; `next(type)` waits for the next one of that type.
 */
export class Child {
  /** `node`: another program to run it with (Node 24 / 26, or valgrind with `prefix` as its arguments). */
  constructor (script, args = [], execArgv = [], { node = process.execPath, prefix = [] } = {}) {
    this.proc = spawn(node, [...prefix, ...execArgv, script, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.queue = []
    this.waiters = []
    this.exited = false
    this.proc.on('message', (msg) => {
      const i = this.waiters.findIndex((w) => w.type === msg.type)
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg)
      else this.queue.push(msg)
    })
    this.proc.on('exit', (code, signal) => {
      this.exited = true
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${script} exited (${code ?? signal}) while waiting for "${w.type}"`))
    })
  }

  send (msg) {
    if (this.proc.connected) this.proc.send(msg)
  }

  next (type, timeoutMs = 120_000) {
    const i = this.queue.findIndex((m) => m.type === type)
    if (i >= 0) return Promise.resolve(this.queue.splice(i, 1)[0])
    if (this.exited) return Promise.reject(new Error(`child exited before sending "${type}"`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${type}"`)), timeoutMs)
      this.waiters.push({
        type,
        resolve: (m) => { clearTimeout(timer); resolve(m) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
    })
  }

  async stop () {
    if (this.exited) return
    this.proc.kill('SIGTERM')
    await once(this.proc, 'exit')
  }
}

/** Busy CPU time of the whole machine so far, in ms (/proc/stat: every state but idle and iowait). */
export function machineBusyMs () {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const [user, nice, system, , , irq, softirq, steal] = fields
    return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND
  } catch {
    return NaN
  }
}
const TICKS_PER_SECOND = 100

/** Absolute values in ms, in 0.1 ms buckets up to 20 s: no allocation per value, even at 4 million. */
export class Histogram {
  constructor () { this.buckets = new Float64Array(200_001); this.count = 0; this.max = 0 }
  add (ms) {
    const v = Math.abs(ms)
    this.buckets[Math.min(200_000, Math.round(v * 10))]++
    this.count++
    if (v > this.max) this.max = v
  }

  percentile (p) {
    const rank = Math.ceil((p / 100) * this.count)
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]
      if (seen >= rank && seen > 0) return i / 10
    }
    return NaN
  }
}
