// Scale: N slow requests waiting at once, over N raw keep-alive connections held by a client process.
// For every N: one server process and one client process; then phases on the same connections: the
// plugin, the hand-written reference and the bare floor (no plugin, bare 102 writes in a loop),
// `timingRounds` times.
import { fileURLToPath } from 'node:url'
import { Child, sleep } from './common.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

// Heap phases first (requests held, no 102 due), in interleaved rounds, then the timed phases.
export const HEAP_PHASES = [
  { name: 'bare', kind: 'heap', path: '/bare-hold' },
  { name: 'plugin', kind: 'heap', path: '/plugin-hold' },
  { name: 'reference', kind: 'heap', path: '/reference-hold' }
]
export const TIMING_PHASES = [
  { name: 'plugin', kind: 'timing', path: '/plugin' },
  { name: 'reference', kind: 'timing', path: '/reference' },
  { name: 'bare', kind: 'timing', path: '/bare' }
]
// The reference again, on its own route: the A/A control of the CPU ratio (`npm run bench -- --aa`).
export const TWIN_PHASE = { name: 'twin', kind: 'timing', path: '/reference-twin' }

export async function runScale ({ ns, threshold, interval, sleep: sleepMs, heapRounds = 1, timingRounds = 1, warmupRounds = 1, warmupN = 0, heapPhases = HEAP_PHASES, timingPhases = TIMING_PHASES, node, log = console.error }) {
  // 102s are due at threshold, threshold + interval, ... while the handler sleeps. The one due at the
  // very moment the handler wakes races with N final responses, hence the ±1 on the count, and
  // lateness is reported for the ones due strictly before (k <= lastK: the 1st to the 9th by default).
  const expected = Math.floor((sleepMs - threshold) / interval) + 1
  const lastK = Math.floor((sleepMs - threshold - 1) / interval)
  const results = []
  for (const n of ns) {
    const params = JSON.stringify({ threshold, interval, sleep: sleepMs })
    const server = new Child(here('./scale-server.js'), [params], ['--expose-gc'], { node })
    const client = new Child(here('./scale-client.js'))
    try {
      const { port } = await server.next('listening')
      client.send({ cmd: 'connect', port, n })
      const connected = await client.next('connected')
      if (connected.error) throw new Error(`N=${n}: connecting failed: ${connected.error}`)
      const row = { n, connectMs: connected.ms, heap: {}, timing: {} }
      // One warm-up round of the heap phases first, not counted: the first requests a route serves
      // leave compiled code and caches behind, which would be billed to whichever phase ran first.
      const rounds = perN(heapRounds, n)
      const warm = Math.max(n, perN(warmupN, n))
      const phases = [
        ...heapPhases.map((phase) => ({ ...phase, warmup: true })),
        ...Array.from({ length: rounds }, () => heapPhases).flat(),
        // Warm-up rounds of the timed phases, not counted either: the heap phases never fire a 102, and the
        // first waves of a path pay for compiling it. Then rounds of the timed phases, each round starting
        // one phase further on, so that no phase always runs first after the heap phases: a spread, not one run.
        // They run at least `warmupN` requests each, on connections opened for them and closed after: at
        // N = 100 a warm-up round fires a few hundred 102s a path, and the paths reached V8's optimising
        // tier only in the counted rounds, each path at its own time.
        ...(warm > n ? [{ kind: 'connect', n: warm - n }] : []),
        ...Array.from({ length: perN(warmupRounds, n) }, () => timingPhases.map((phase) => ({ ...phase, warmup: true, n: warm }))).flat(),
        ...(warm > n ? [{ kind: 'trim' }] : []),
        ...Array.from({ length: perN(timingRounds, n) }, (_, r) => timingPhases.map((_, i) => timingPhases[(i + r) % timingPhases.length])).flat()
      ]
      for (const phase of phases) {
        if (phase.kind === 'connect') {
          client.send({ cmd: 'connect', port, n: phase.n })
          const more = await client.next('connected')
          if (more.error) throw new Error(`N=${n}: connecting ${phase.n} more for the warm-up failed: ${more.error}`)
          continue
        }
        if (phase.kind === 'trim') {
          client.send({ cmd: 'trim', n })
          await client.next('trimmed')
          continue
        }
        await sleep(phase.kind === 'heap' ? 50 : 200)
        server.send({ cmd: 'phase', name: phase.name, kind: phase.kind, n: phase.n ?? n })
        await server.next('ready')
        const timing = phase.kind === 'timing'
        client.send({
          cmd: 'send',
          path: phase.path,
          threshold,
          interval,
          expected: timing ? expected : 0,
          lastK: timing ? lastK : -1,
          timeout: sleepMs + 60_000
        })
        const [metrics, result] = await Promise.all([server.next('metrics', sleepMs + 60_000), client.next('result', sleepMs + 90_000)])
        const figures = { ...metrics.metrics, ...result }
        if (timing) {
          if (!phase.warmup) (row.timing[phase.name] ??= []).push(figures)
          log(`  scale N=${n} ${phase.name}${phase.warmup ? ` (warm-up of ${phase.n ?? n}, not counted)` : ''}: ${summary(figures)}`)
        } else if (!phase.warmup) {
          (row.heap[phase.name] ??= []).push(figures)
          log(`  scale N=${n} heap ${phase.name}: ${figures.ok}/${n} 200s, ${figures.heapPerRequest.toFixed(0)} B/request, ramp ${figures.rampMs.toFixed(0)} ms, gc ${figures.gcMs.toFixed(0)} ms`)
        }
      }
      results.push(row)
    } finally {
      client.send({ cmd: 'exit' })
      server.send({ cmd: 'exit' })
      await Promise.all([client.stop(), server.stop()])
    }
  }
  return results
}

/** A count given as a number, or as a function of N. */
function perN (count, n) {
  return typeof count === 'function' ? count(n) : count
}

function summary (p) {
  const f = (x, d = 1) => Number.isFinite(x) ? x.toFixed(d) : String(x)
  return `200s ${p.ok}/${p.n}, count ok ${p.countOk}, ramp ${f(p.rampMs, 0)} ms, ` +
    `cpu/102 ${f(p.cpuPer102Us, 2)} us (median of ${p.cpuWindows} windows), ` +
    `eld p50/p99 ${f(p.eldP50, 2)}/${f(p.eldP99, 2)} ms, late p50/p99 ${f(p.lateP50, 2)}/${f(p.lateP99, 2)} ms, ` +
    `gap error p99 ${f(p.gapP99, 2)} ms, late max ${f(p.lateMax, 1)} ms, eld max ${f(p.eldMax, 1)} ms` + (p.error ? `, ERROR ${p.error}` : '')
}
