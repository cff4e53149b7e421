// Fast-path cost, same process: autocannon (in this process) against the routes of ONE server process
// (bench/fastpath-server.js), each round running every route once in a fresh shuffled order. The
// figure is the server's own CPU time per request (process.cpuUsage() read just before and after each
// run), divided by the same figure for /none in the same round: a neighbour that steals a core slows a
// run down but barely changes the CPU the server spends per request, and a drift over the rounds
// affects both sides of a ratio alike. Requests per second are kept as a second, noisier view.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { Child, machineBusyMs } from './common.js'
import { summarize } from './stats.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

export const ROUTES = ['none', 'none2', 'registered', 'opted', 'hooks', 'hooksclose', 'naive']

// [numerator, denominator]: ratios of CPU per request (above 1: the numerator costs more).
export const RATIOS = [
  ['none2', 'none'],
  ['registered', 'none'],
  ['opted', 'none'],
  ['hooks', 'none'],
  ['hooksclose', 'none'],
  ['naive', 'none'],
  ['opted', 'hooksclose'],
  ['opted', 'naive']
]

export async function cpuOf (server) {
  server.send({ cmd: 'cpu' })
  return (await server.next('cpu')).us
}

/** One autocannon run of `amount` requests against `path`; the server's CPU time around it. */
export async function run (server, path, { connections, pipelining, amount }) {
  const cpu0 = await cpuOf(server)
  const busy0 = machineBusyMs()
  const self0 = process.cpuUsage()
  const t0 = performance.now()
  // With `amount`, autocannon stops at the first sample tick after the last response: a short tick,
  // and the wall time taken at the last response rather than at that tick.
  let last = t0
  const instance = autocannon({ url: `http://127.0.0.1:${server.port}${path}`, connections, pipelining, amount, sampleInt: 20 })
  instance.on('response', () => { last = performance.now() })
  const result = await instance
  const wallMs = last - t0
  const self = process.cpuUsage(self0)
  const busyMs = machineBusyMs() - busy0
  const cpuUs = (await cpuOf(server)) - cpu0
  if (result.errors || result.timeouts || result.non2xx) {
    throw new Error(`autocannon ${path}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
  }
  const requests = result.requests.total
  return {
    requests,
    cpuPerRequestUs: cpuUs / requests,
    // The load generator's own CPU per request: what the route's responses cost the client to read.
    clientCpuPerRequestUs: (self.user + self.system) / requests,
    rps: requests / (wallMs / 1000),
    // Cores used by every other process on the machine during the run (neither server nor load).
    neighbour: (busyMs - (cpuUs + self.user + self.system) / 1000) / wallMs
  }
}

function shuffle (list) {
  const a = [...list]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

/**
 * For each load shape: `warmup` rounds not counted, then `rounds` rounds; every round runs each route
 * once, in a shuffled order. Returns, per shape, the per-round figures and the ratio summaries.
 */
export async function runFastPath ({ shapes, rounds, warmup, log = console.error }) {
  const server = new Child(here('./fastpath-server.js'))
  const out = []
  try {
    server.port = (await server.next('listening')).port
    for (const shape of shapes) {
      const perRound = []
      for (let round = 0; round < warmup + rounds; round++) {
        const figures = {}
        for (const route of shuffle(ROUTES)) figures[route] = await run(server, `/${route}`, shape)
        if (round >= warmup) perRound.push(figures)
      }
      const ratios = RATIOS.map(([a, b]) => ({
        a,
        b,
        cpu: summarize(perRound.map((r) => r[a].cpuPerRequestUs / r[b].cpuPerRequestUs)),
        // Throughput view: B's req/s over A's (above 1: A is slower), the same orientation as CPU.
        rps: summarize(perRound.map((r) => r[b].rps / r[a].rps))
      }))
      const abs = Object.fromEntries(ROUTES.map((route) => [route, {
        cpu: summarize(perRound.map((r) => r[route].cpuPerRequestUs)),
        clientCpu: summarize(perRound.map((r) => r[route].clientCpuPerRequestUs)),
        rps: summarize(perRound.map((r) => r[route].rps))
      }]))
      const neighbour = summarize(perRound.flatMap((r) => ROUTES.map((route) => r[route].neighbour)))
      const row = { shape, rounds, warmup, ratios, abs, neighbour, perRound }
      for (const r of ratios) {
        log(`  fastpath c${shape.connections} p${shape.pipelining} ${r.a}/${r.b}: cpu ${r.cpu.median.toFixed(3)} [${r.cpu.lo.toFixed(3)}, ${r.cpu.hi.toFixed(3)}], ` +
          `req/s ${r.rps.median.toFixed(3)} [${r.rps.lo.toFixed(3)}, ${r.rps.hi.toFixed(3)}]`)
      }
      out.push(row)
    }
  } finally {
    server.send({ cmd: 'exit' })
    await server.stop()
  }
  return out
}
