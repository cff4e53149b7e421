// What bench/callgrind.js and bench/callgrind-waves.js share: a Node child under callgrind with
// instrumentation off until asked, its counters zeroed and dumped from outside, and a seeded order.
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { Child } from './common.js'

/**
 * Runs `script` under callgrind. V8 runs --single-threaded, so no compiler or GC thread adds instructions
 * at random moments; callgrind_control reaches the process through vgdb even while it waits in epoll.
 * `dump()` returns the instructions since the last `zero()`.
 */
export function callgrindChild (script, args, { keep = false } = {}) {
  const out = `/tmp/callgrind.${process.pid}`
  const valgrind = ['-n', '19', 'valgrind', '-q', '--tool=callgrind', '--instr-atstart=no', '--collect-systime=no',
    '--separate-threads=no', '--dump-line=no', `--log-file=${out}.log`, `--callgrind-out-file=${out}`, process.execPath]
  const flags = ['--single-threaded', '--expose-gc', '--no-memory-reducer', '--random-seed=19']
  const child = new Child(script, args, flags, { node: 'nice', prefix: valgrind })
  const control = (...a) => execFileSync('callgrind_control', [...a, String(child.proc.pid)], { stdio: 'pipe' })
  let dumps = 0
  return {
    child,
    flags,
    instrument: () => control('-i', 'on'),
    zero: () => control('-z'),
    dump () {
      control('-d')
      const file = `${out}.${++dumps}`
      const total = Number(/^totals: (\d+)/m.exec(readFileSync(file, 'utf8'))[1])
      if (!keep) rmSync(file)
      return total
    },
    log: () => { try { return readFileSync(`${out}.log`, 'utf8') } catch { return '' } },
    async stop () {
      child.send({ cmd: 'exit' })
      await new Promise((resolve) => child.exited ? resolve() : child.proc.on('exit', resolve))
      for (const file of [out, `${out}.log`]) rmSync(file, { force: true })
    }
  }
}

/** A seeded shuffler (mulberry32): the same orders every run. */
export function shuffler (seed) {
  const random = () => {
    let t = (seed = (seed + 0x6D2B79F5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return (list) => {
    const a = [...list]
    for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]] }
    return a
  }
}
