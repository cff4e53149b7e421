// Throughput overhead: autocannon against servers in their own processes, in alternating pairs.
// Every route answers at once, below the threshold, so autocannon (which counts a 102 as a response)
// is a fair tool here. Besides req/s, each server reports the CPU time it spent per request: the two
// views disagree only when a neighbour steals CPU from the server during one run of a pair.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { Child, machineBusyMs, median } from './common.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

// baseline2 is a second baseline process: the A/A row measures the noise of this machine.
export const VARIANTS = ['baseline', 'baseline2', 'plain', 'opted', 'naive', 'alt']

// [A, B]: the ratio is B / A, in req/s (higher is better for B when > 1).
export const COMPARISONS = [
  ['baseline', 'baseline2'],
  ['baseline', 'plain'],
  ['baseline', 'opted'],
  ['baseline', 'naive'],
  ['naive', 'opted'],
  ['baseline', 'alt'],
  ['opted', 'alt']
]

async function cpu (server) {
  server.send({ cmd: 'cpu' })
  return (await server.next('cpu')).us
}

async function measure (server, duration) {
  const cpu0 = await cpu(server)
  const busy0 = machineBusyMs()
  const self0 = process.cpuUsage()
  const t0 = performance.now()
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/`,
    connections: 100,
    pipelining: 10,
    duration,
    // autocannon ends a run at the first sample tick after `duration`: one sample per run keeps a
    // 0.3 s run from lasting a whole second.
    sampleInt: duration * 1000
  })
  const wallMs = performance.now() - t0
  const self = process.cpuUsage(self0)
  const busyMs = machineBusyMs() - busy0
  const cpuUs = (await cpu(server)) - cpu0
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`autocannon against ${server.variant}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  }
  const requests = result.requests.total
  // CPU that neither this server nor the load generator used during the run, in cores: a neighbour.
  const neighbour = (busyMs - (cpuUs + self.user + self.system) / 1000) / wallMs
  return { rps: requests / result.duration, cpuPerRequestUs: cpuUs / requests, neighbour }
}

// A pair is kept only if, during both of its runs, other processes used less than this many cores
// (sampled from /proc/stat at 100 Hz, so a few hundredths are rounding). Otherwise it is run again,
// up to `pairs` extra attempts per row and round; the table says how many pairs were dropped.
export const NEIGHBOUR_LIMIT = 0.15

async function startServers (pin) {
  const servers = {}
  for (const variant of VARIANTS) {
    const server = new Child(here('./throughput-server.js'), [variant], [], { cpu: pin ? 0 : undefined })
    server.variant = variant
    const listening = await server.next('listening')
    server.port = listening.port
    server.hooks = { route: listening.routeHooks, global: listening.globalHooks }
    servers[variant] = server
  }
  return servers
}

/**
 * `rounds` times: fresh server processes (a process can run a few percent faster or slower than its
 * twin for its whole life: memory layout, JIT decisions), warmed up, then `pairs` pairs per comparison.
 * Each row's ratio is the median over all its pairs.
 */
export async function runThroughput ({ rounds = 1, pairs, duration, warmup, pin = false, skip = [], log = console.error }) {
  const comparisons = COMPARISONS.filter(([a, b]) => !skip.includes(`${a}/${b}`))
  const rows = new Map(comparisons.map(([a, b]) => [`${a}/${b}`, { a, b, runs: [], dropped: 0, neighbours: [], hooks: null }]))
  for (let round = 0; round < rounds; round++) {
    const servers = await startServers(pin)
    try {
      for (const variant of VARIANTS) await measure(servers[variant], warmup)
      for (const [a, b] of comparisons) {
        const row = rows.get(`${a}/${b}`)
        row.hooks = servers[b].hooks
        let kept = 0
        for (let i = 0; kept < pairs && i < 2 * pairs; i++) {
          // A B, then B A: a neighbour's load that rises or falls during the pairs biases neither side.
          const order = i % 2 === 0 ? [a, b] : [b, a]
          const pair = {}
          for (const v of order) pair[v] = await measure(servers[v], duration)
          const neighbour = Math.max(pair[a].neighbour, pair[b].neighbour)
          row.neighbours.push(neighbour)
          const attemptsLeft = 2 * pairs - i - 1
          if (neighbour > NEIGHBOUR_LIMIT && attemptsLeft >= pairs - kept) {
            row.dropped++
            continue
          }
          kept++
          row.runs.push({
            a: pair[a],
            b: pair[b],
            ratio: pair[b].rps / pair[a].rps,
            cpuRatio: pair[a].cpuPerRequestUs / pair[b].cpuPerRequestUs
          })
        }
        log(`  throughput round ${round + 1}/${rounds} ${b} vs ${a}: pairs ${row.runs.slice(-kept).map((r) => r.ratio.toFixed(2)).join(' ')}`)
      }
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()))
    }
  }
  const results = []
  for (const { a, b, runs, dropped, neighbours, hooks } of rows.values()) {
    const row = {
      a,
      b,
      rounds,
      pairs: runs.length,
      dropped,
      neighbour: median(neighbours),
      ratio: median(runs.map((r) => r.ratio)),
      cpuRatio: median(runs.map((r) => r.cpuRatio)),
      minRatio: Math.min(...runs.map((r) => r.ratio)),
      maxRatio: Math.max(...runs.map((r) => r.ratio)),
      aRps: median(runs.map((r) => r.a.rps)),
      bRps: median(runs.map((r) => r.b.rps)),
      aCpuUs: median(runs.map((r) => r.a.cpuPerRequestUs)),
      bCpuUs: median(runs.map((r) => r.b.cpuPerRequestUs)),
      bHooks: hooks
    }
    log(`  throughput ${b} vs ${a}: ratio ${row.ratio.toFixed(3)} over ${runs.length} pairs (${dropped} dropped), ` +
      `cpu ratio ${row.cpuRatio.toFixed(3)} (${row.aCpuUs.toFixed(2)} / ${row.bCpuUs.toFixed(2)} us/req)`)
    results.push(row)
  }
  return results
}
