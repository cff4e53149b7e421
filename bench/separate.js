// Why the old separate-process pairs said 0.70-0.78 for an opted-in route while a profile said +6 %.
// `node bench/separate.js [--sets=3] [--pairs=8] [--seconds=1]`
//
// Several server processes at once, each serving only some routes (bench/fastpath-server.js with a
// route list), measured the old way: autocannon 100 connections, pipelining 10, runs of a fixed
// duration in alternating pairs, fresh processes per set. Per run, four figures: the server's CPU
// per request, the load generator's CPU per request and req/s. For every set:
//   none-A     only /none
//   none-B     only /none, a twin process (A/A)
//   opted-only only /opted
//   mixed      every route, hammered on /none and on /opted in turn
// The same-process figure (mixed: opted / none) and the separate-process one (opted-only / none-A)
// come out of the same set, under the same neighbours.
import autocannon from 'autocannon'
import { fileURLToPath } from 'node:url'
import { Child, machineBusyMs } from './common.js'
import { cpuOf } from './fastpath.js'
import { summarize, fmtInterval } from './stats.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

const SERVERS = [
  ['noneA', './fastpath-server.js', ['none']],
  ['noneB', './fastpath-server.js', ['none']],
  ['optedOnly', './fastpath-server.js', ['opted']],
  ['mixed', './fastpath-server.js', []],
  // The old method's own servers (bench/throughput-server.js), route GET /.
  ['oldBaseline', './throughput-server.js', ['baseline']],
  ['oldOpted', './throughput-server.js', ['opted']]
]
const RUNS = [['noneA', 'none'], ['noneB', 'none'], ['optedOnly', 'opted'], ['mixed', 'none'], ['mixed', 'opted'], ['oldBaseline', ''], ['oldOpted', '']]

async function measure (server, path, seconds) {
  const cpu0 = await cpuOf(server)
  const self0 = process.cpuUsage()
  const busy0 = machineBusyMs()
  const t0 = performance.now()
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}${path}`,
    connections: 100,
    pipelining: 10,
    duration: seconds,
    sampleInt: seconds * 1000
  })
  const wallMs = performance.now() - t0
  const self = process.cpuUsage(self0)
  const busyMs = machineBusyMs() - busy0
  const cpuUs = (await cpuOf(server)) - cpu0
  const requests = result.requests.total
  return {
    cpu: cpuUs / requests,
    client: (self.user + self.system) / requests,
    rps: requests / result.duration,
    neighbour: (busyMs - (cpuUs + self.user + self.system) / 1000) / wallMs
  }
}

export async function runSeparate ({ sets = 3, pairs = 8, seconds = 1, log = console.error } = {}) {
  const rows = { aa: [], separate: [], same: [], mixedNone: [], clientSeparate: [], clientSame: [], rpsSeparate: [], rpsSame: [], rpsAA: [], oldSeparate: [], rpsOldSeparate: [] }
  const abs = []
  for (let set = 0; set < sets; set++) {
    const servers = {}
    for (const [name, script, args] of SERVERS) {
      const s = new Child(here(script), args)
      s.port = (await s.next('listening')).port
      servers[name] = s
    }
    try {
      // The old method's warm-up: 1.5 s per process (0.75 s per route of the mixed one).
      for (const [name, route] of RUNS) await measure(servers[name], `/${route}`, name === 'mixed' ? 0.75 : 1.5)
      for (let i = 0; i < pairs; i++) {
        const runs = [...RUNS]
        if (i % 2 === 1) runs.reverse()
        const r = {}
        for (const [name, route] of runs) r[`${name}:${route}`] = await measure(servers[name], `/${route}`, seconds)
        abs.push(r)
        rows.aa.push(r['noneB:none'].cpu / r['noneA:none'].cpu)
        rows.rpsAA.push(r['noneA:none'].rps / r['noneB:none'].rps)
        rows.separate.push(r['optedOnly:opted'].cpu / r['noneA:none'].cpu)
        rows.rpsSeparate.push(r['noneA:none'].rps / r['optedOnly:opted'].rps)
        rows.same.push(r['mixed:opted'].cpu / r['mixed:none'].cpu)
        rows.rpsSame.push(r['mixed:none'].rps / r['mixed:opted'].rps)
        rows.mixedNone.push(r['mixed:none'].cpu / r['noneA:none'].cpu)
        rows.clientSeparate.push(r['optedOnly:opted'].client / r['noneA:none'].client)
        rows.clientSame.push(r['mixed:opted'].client / r['mixed:none'].client)
        rows.oldSeparate.push(r['oldOpted:'].cpu / r['oldBaseline:'].cpu)
        rows.rpsOldSeparate.push(r['oldBaseline:'].rps / r['oldOpted:'].rps)
        log(`  separate set ${set + 1} pair ${i + 1}: ` + Object.entries(r).map(([k, v]) =>
          `${k} ${v.cpu.toFixed(2)}us ${v.client.toFixed(2)}us(client) ${v.rps.toFixed(0)}/s nb ${v.neighbour.toFixed(2)}`).join(' | '))
      }
    } finally {
      for (const s of Object.values(servers)) { s.send({ cmd: 'exit' }); await s.stop() }
    }
  }
  return { sets, pairs, seconds, summary: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, summarize(v)])), abs }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, d) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d)
  const res = await runSeparate({ sets: arg('sets', 3), pairs: arg('pairs', 8), seconds: arg('seconds', 1) })
  for (const [k, v] of Object.entries(res.summary)) console.log(k, fmtInterval(v), `p10-p90 ${v.p10.toFixed(3)}-${v.p90.toFixed(3)}`)
}
