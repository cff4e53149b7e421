// `npm run bench`: every benchmark of BENCHMARKS.md in one run, written into its generated section (the
// text around the markers is kept). `npm run bench -- --quick` is a short version that prints the same
// tables and writes nothing. The last line printed is a one-line JSON summary of the headline figures.
//   1. the fast path: one server process, every route interleaved, server CPU per request (fastpath.js)
//   2. real sockets: N slow requests waiting at once, to 15,000, with a fast route probed during the
//      waves (scale.js), on this Node and on Node 24, where 102s go through writeInformation()
//   3. the socket-free simulation through the real scheduler, to 1,000,000 (sim.js)
// Options: --quick, --write / --no-write (default: write on a full run only),
//          --only=fastpath,scale,node24,sim (a subset), --node24=/path/to/node (default: the npm package
//          node@24, installed once into .cache/node-lines/24 as `npm run test:lines` does).
import { execFileSync, execSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median } from './common.js'
import { ROUTES, runFastPath } from './fastpath.js'
import { runScale } from './scale.js'
import { runSim } from './sim.js'
import { fmtInterval } from './stats.js'

const args = process.argv.slice(2)
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const quick = args.includes('--quick')
const write = args.includes('--write') || (!quick && !args.includes('--no-write'))
const only = option('only')?.split(',') ?? ['fastpath', 'scale', 'node24', 'sim']

const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('bench: dist/index.js is missing; run `npm run build` first (`npm run bench` does).')
  process.exit(1)
}

const SETTINGS = quick
  ? {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 4000 }], rounds: 6, warmup: 1 },
      scale: { ns: [100, 1000, 10_000], threshold: 1000, interval: 1000, sleep: 4000, heapRounds: 1, timingRounds: 1 },
      node24: { ns: [10_000], threshold: 1000, interval: 1000, sleep: 4000, heapRounds: 1, timingRounds: 1 },
      sim: { ns: [100, 10_000, 100_000], threshold: 4000, interval: 1000, waves: 4, rounds: 1 }
    }
  : {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 20_000 }], rounds: 20, warmup: 3 },
      scale: { ns: [100, 1000, 5000, 10_000, 15_000], threshold: 1000, interval: 1000, sleep: 6000, heapRounds: 3, timingRounds: 3 },
      node24: { ns: [1000, 10_000, 15_000], threshold: 1000, interval: 1000, sleep: 6000, heapRounds: 2, timingRounds: 2 },
      sim: { ns: [100, 1000, 10_000, 100_000, 1_000_000], threshold: 4000, interval: 1000, waves: 4, rounds: 2 }
    }

// The targets of issue 11, each checked where the tables say.
const TARGETS = {
  registered: 0.99, // of /none's throughput: CPU per request at most 1 / 0.99 of /none's
  optedVsFloor: 1.03, // × the no-op hook floor (route onRequest + onSend + one shared 'close' listener)
  eldP99: 20, // ms, at every N
  eldMax: 50, // ms, at every N
  probeRatio: 2, // a fast route's p99 during the waves, × its idle p99
  gapP99: 10, // ms, the gap between one request's consecutive 102s, off the interval, at 10,000
  heap: 400, // bytes per pending request
  cpuRatio: 1.2, // CPU per 102 × the bare-write floor of the same run
  simFlat: 1.5 // the simulation's per-102 time, largest N against smallest, either way
}

const log = (line) => console.error(line)
const started = Date.now()
const load0 = os.loadavg()
log(`bench: ${quick ? 'quick' : 'full'} run (${only.join(', ')}), node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`)

function node24 () {
  const given = option('node24')
  if (given !== undefined) return given
  const cache = process.env.NODE_LINES_CACHE ?? `${root}.cache/node-lines`
  const bin = `${cache}/24/node_modules/node/bin/node`
  if (!existsSync(bin)) {
    log('bench: installing the npm package node@24 into .cache/node-lines/24')
    execSync(`npm install --prefix "${cache}/24" --no-save --no-package-lock --no-audit --no-fund node@24`, { stdio: 'ignore' })
  }
  return bin
}

const phase = async (name, fn) => {
  if (!only.includes(name)) return null
  const t = Date.now()
  const result = await fn()
  log(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(0)} s`)
  return result
}

const fastpath = await phase('fastpath', () => runFastPath({ ...SETTINGS.fastpath, log }))
const scale = await phase('scale', () => runScale({ ...SETTINGS.scale, log }))
const node24Bin = only.includes('node24') ? node24() : null
const node24Version = node24Bin === null ? null : execFileSync(node24Bin, ['--version'], { encoding: 'utf8' }).trim()
const scale24 = await phase('node24', () => runScale({ ...SETTINGS.node24, node: node24Bin, log }))
const sim = await phase('sim', async () => {
  const rounds = []
  for (let r = 0; r < SETTINGS.sim.rounds; r++) rounds.push(await runSim({ ...SETTINGS.sim, log }))
  // One row per N, each figure a list over the rounds.
  return SETTINGS.sim.ns.map((n, i) => ({ n, rounds: rounds.map((list) => list[i]) }))
})
const load1 = os.loadavg()
const seconds = (Date.now() - started) / 1000

// ---------------------------------------------------------------------------------------------------
// Figures

const fmt = (x, digits = 1) => Number.isFinite(x) ? x.toFixed(digits) : '–'
const mark = (ok) => ok ? '✅' : '❌'
/** Median over rounds, and the range when there was more than one: "12.3 (10.1–14.2)". */
function spread (values, digits = 1) {
  const v = values.filter(Number.isFinite)
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, text: '–' }
  const m = median(v)
  const min = Math.min(...v)
  const max = Math.max(...v)
  return { median: m, min, max, text: v.length > 1 ? `${fmt(m, digits)} (${fmt(min, digits)}–${fmt(max, digits)})` : fmt(m, digits) }
}

function scaleFigures (row) {
  const plugin = row.timing.plugin
  const bare = row.timing.bare
  const of = (list, key) => list.map((f) => f[key])
  const heapPlugin = median(row.heap.plugin.map((p) => p.heapPerRequest))
  const heapBare = median(row.heap.bare.map((p) => p.heapPerRequest))
  return {
    n: row.n,
    rounds: plugin.length,
    ok: Math.min(...of(plugin, 'ok')),
    countOk: Math.min(...of(plugin, 'countOk')),
    counts: plugin.map((f) => f.counts),
    eldP99: spread(of(plugin, 'eldP99')),
    eldMax: spread(of(plugin, 'eldMax')),
    floorEldMax: spread(of(bare, 'eldMax')),
    probeIdle: row.idleProbe.p99,
    probe: spread(of(plugin, 'probe').map((p) => p?.p99)),
    probeRatio: spread(of(plugin, 'probe').map((p) => p?.p99 / row.idleProbe.p99), 2),
    floorProbe: spread(of(bare, 'probe').map((p) => p?.p99)),
    lateP99: spread(of(plugin, 'lateP99')),
    lateMax: spread(of(plugin, 'lateMax')),
    gapP99: spread(of(plugin, 'gapP99')),
    serverGapP99: spread(of(plugin, 'serverGapP99')),
    floorServerGapP99: spread(of(bare, 'serverGapP99')),
    cpuPer102: spread(of(plugin, 'cpuPer102Us'), 2),
    floorPer102: spread(of(bare, 'cpuPer102Us'), 2),
    // Each round's plugin phase over the floor phase that ran right after it.
    cpuRatio: spread(plugin.map((f, i) => f.cpuPer102Us / bare[i]?.cpuPer102Us), 2),
    heap: heapPlugin - heapBare,
    heapBare,
    rampMs: spread(of(plugin, 'rampMs'), 0),
    longestSlice: spread(of(plugin, 'longestSliceMs')),
    gcMax: spread(of(plugin, 'gcMaxMs')),
    floorGcMax: spread(of(bare, 'gcMaxMs')),
    othersCores: spread(of(plugin, 'othersCores'), 2),
    errors: plugin.map((f) => f.error).filter(Boolean)
  }
}

function scaleVerdicts (f, interval) {
  return {
    delivery: f.ok === f.n && f.countOk === f.n,
    eldP99: f.eldP99.max <= TARGETS.eldP99,
    eldMax: f.eldMax.max <= TARGETS.eldMax,
    probe: f.probeRatio.median <= TARGETS.probeRatio,
    late: f.lateMax.max <= interval,
    heap: f.heap <= TARGETS.heap,
    cpu: f.cpuRatio.median <= TARGETS.cpuRatio,
    gap: f.n < 10_000 || f.gapP99.median <= TARGETS.gapP99
  }
}

// ---------------------------------------------------------------------------------------------------
// Tables

const out = []
const summary = { quick, seconds: Math.round(seconds), node: process.version }

if (fastpath !== null) {
  const s = SETTINGS.fastpath
  const row = fastpath[0]
  const ratio = (a, b) => row.ratios.find((r) => r.a === a && r.b === b)
  const registered = ratio('registered', 'none')
  const floor = ratio('opted', 'hooksclose')
  const met = {
    registered: registered.cpu.median <= 1 / TARGETS.registered,
    optedVsFloor: floor.cpu.median <= TARGETS.optedVsFloor
  }
  out.push('### 1. The fast path: a route that answers at once, same process')
  out.push('')
  out.push(`One server process (\`bench/fastpath-server.js\`) with every route; ${s.rounds} rounds (after ${s.warmup} not counted), ` +
    `each running every route once in a shuffled order, ${s.shapes[0].amount} requests per run, autocannon in this process with ` +
    `${s.shapes[0].connections} connections. The figure is the server's own CPU per request over \`/none\`'s in the same round; ` +
    'median of the per-round ratios with a 95 % bootstrap interval. Above 1: the route costs more than `/none`.')
  out.push('')
  out.push('| ratio | CPU per request, median [95 % CI] | req/s view (B over A, noisier) | target | met |')
  out.push('|---|---|---|---|---|')
  const names = {
    'none2/none': 'A/A: `/none2` / `/none` (twin routes: the noise)',
    'registered/none': 'registered, not opted in / `/none`',
    'opted/none': '**opted in** / `/none`',
    'hooks/none': 'no-op route `onRequest` + `onSend` / `/none`',
    'hooksclose/none': 'the same + one shared `\'close\'` listener (the floor) / `/none`',
    'naive/none': 'naive: global hook + `setInterval` / `/none`',
    'opted/hooksclose': '**opted in / the floor**',
    'opted/naive': 'opted in / naive'
  }
  for (const r of row.ratios) {
    const key = `${r.a}/${r.b}`
    const target = key === 'registered/none'
      ? [`≤ ${fmt(1 / TARGETS.registered, 3)} (≥ 0.99 of the throughput)`, met.registered]
      : key === 'opted/hooksclose' ? [`≤ ${TARGETS.optedVsFloor}`, met.optedVsFloor] : null
    out.push(`| ${names[key] ?? key} | ${fmtInterval(r.cpu)} | ${fmtInterval(r.rps)} | ${target?.[0] ?? '–'} | ${target === null ? '–' : mark(target[1])} |`)
  }
  out.push('')
  out.push('Server CPU per request, µs, median [95 % CI]: ' + ROUTES.map((route) => `\`/${route}\` ${fmtInterval(row.abs[route].cpu, 2)}`).join('; ') +
    `. Other processes used ${fmt(row.neighbour.median, 2)} of a core in the median run.`)
  out.push('')
  summary.fastpath = Object.fromEntries(row.ratios.map((r) => [`${r.a}/${r.b}`, { median: Number(fmt(r.cpu.median, 3)), lo: Number(fmt(r.cpu.lo, 3)), hi: Number(fmt(r.cpu.hi, 3)) }]))
  summary.fastpath.met = met
}

function scaleTable (title, rows, settings, nodeVersion) {
  const s = settings
  out.push(`### ${title}`)
  out.push('')
  out.push(`Node ${nodeVersion}. N raw keep-alive connections from a client process; the handler sleeps ${s.sleep / 1000} s; threshold ` +
    `${s.threshold} ms, interval ${s.interval} ms: ${Math.floor((s.sleep - s.threshold) / s.interval) + 1} 102s per request (±1). ` +
    `${s.timingRounds} round${s.timingRounds > 1 ? 's' : ''} of the timed phases per N (the plugin, then the floor: bare 102 writes in one loop ` +
    'per interval, same sockets, same process): median (range over the rounds). A probe process hammers a fast route on the same server ' +
    'during the waves. Targets, marked at every N: ' +
    `loop delay p99 ≤ ${TARGETS.eldP99} ms and max ≤ ${TARGETS.eldMax} ms; the probe's p99 ≤ ${TARGETS.probeRatio}× idle; no 102 more than one ` +
    `interval late; CPU per 102 ≤ ${TARGETS.cpuRatio}× the floor; heap ≤ ${TARGETS.heap} B per pending request; gap error p99 ≤ ${TARGETS.gapP99} ms from 10,000.`)
  out.push('')
  out.push('| N | 200s, 102 counts ok | loop delay p99 / max ms | fast route p99 ms (idle) | × idle | lateness p99 / max ms | gap error p99 ms, client (server) | CPU/102 µs (floor) | × floor | heap B/request |')
  out.push('|---|---|---|---|---|---|---|---|---|---|')
  const verdicts = []
  for (const row of rows) {
    const f = scaleFigures(row)
    const v = scaleVerdicts(f, s.interval)
    verdicts.push({ n: f.n, ...v })
    out.push(`| ${f.n.toLocaleString('en')} | ${f.ok}/${f.n}, ${f.countOk}/${f.n} ${mark(v.delivery)} | ${f.eldP99.text} / ${f.eldMax.text} ${mark(v.eldP99 && v.eldMax)} | ` +
      `${f.probe.text} (${fmt(f.probeIdle, 1)}) | ${f.probeRatio.text} ${mark(v.probe)} | ${f.lateP99.text} / ${f.lateMax.text} ${mark(v.late)} | ` +
      `${f.gapP99.text} (${f.serverGapP99.text})${f.n >= 10_000 ? ` ${mark(v.gap)}` : ''} | ${f.cpuPer102.text} (${f.floorPer102.text}) | ${f.cpuRatio.text} ${mark(v.cpu)} | ` +
      `${fmt(f.heap, 0)} ${mark(v.heap)} |` + (f.errors.length > 0 ? ` ${f.errors.join('; ')}` : ''))
  }
  out.push('')
  out.push('The plugin\'s phases: the scheduler\'s longest slice (its own record, slices are cut at 5 ms) and the longest GC pause (a `PerformanceObserver` on `gc`): ' +
    rows.map((row) => {
      const f = scaleFigures(row)
      return `N = ${f.n.toLocaleString('en')}: ${f.longestSlice.text} ms and ${f.gcMax.text} ms`
    }).join('; ') + '.')
  out.push('')
  out.push('The floor in the same runs (one synchronous loop over every pending response once per interval), for comparison: ' +
    rows.map((row) => {
      const f = scaleFigures(row)
      return `N = ${f.n.toLocaleString('en')}: loop delay max ${f.floorEldMax.text} ms, fast route p99 ${f.floorProbe.text} ms, server gap error p99 ${f.floorServerGapP99.text} ms, longest GC pause ${f.floorGcMax.text} ms`
    }).join('; ') + '.')
  out.push('')
  return verdicts
}

if (scale !== null) {
  const v = scaleTable('2. N slow requests waiting at once, real sockets', scale, SETTINGS.scale, process.version)
  const top = scaleFigures(scale.at(-1))
  summary.scale = brief(top, v.at(-1))
}
if (scale24 !== null) {
  const v = scaleTable('2b. The same on Node 24 (102s through `writeInformation()`)', scale24, SETTINGS.node24, node24Version)
  summary.scale24 = { node: node24Version, ...brief(scaleFigures(scale24.at(-1)), v.at(-1)) }
}

function brief (f, v) {
  return {
    n: f.n,
    eldP99Ms: Number(fmt(f.eldP99.median, 2)),
    eldMaxMs: Number(fmt(f.eldMax.median, 1)),
    probeRatio: Number(fmt(f.probeRatio.median, 2)),
    lateMaxMs: Number(fmt(f.lateMax.median, 1)),
    gapP99Ms: Number(fmt(f.gapP99.median, 1)),
    serverGapP99Ms: Number(fmt(f.serverGapP99.median, 1)),
    cpuRatio: Number(fmt(f.cpuRatio.median, 2)),
    heapBytesPerRequest: Math.round(f.heap),
    missed: Object.entries(v).filter(([k, ok]) => k !== 'n' && !ok).map(([k]) => k)
  }
}

if (sim !== null) {
  const s = SETTINGS.sim
  out.push('### 3. The socket-free simulation, through the real scheduler')
  out.push('')
  out.push(`\`bench/sim-worker.js\`, a fresh process per N and round (${s.rounds} round${s.rounds > 1 ? 's' : ''}: median (range)). N requests start ` +
    `in one burst through the emitter's own \`startProcessing()\`, every 102 of a wave due in the same millisecond; threshold ${s.threshold} ms, ` +
    `interval ${s.interval} ms, ${s.waves} waves; a counting transport stands in for the sockets. *Time per 102*: the time spent inside the ` +
    'scheduler\'s slices over the 102s written in them; *floor*: the same counting write in one plain loop, timed the same way. Targets: ' +
    `every request gets its ${s.waves} 102s; heap ≤ ${TARGETS.heap} B per pending request; loop delay p99 ≤ ${TARGETS.eldP99} ms and max ≤ ${TARGETS.eldMax} ms; ` +
    `the time per 102 within ${TARGETS.simFlat}× between the smallest and the largest N.`)
  out.push('')
  out.push('| N | start the burst ms | complete | heap B/request | time per 102 µs (floor) | scheduler\'s own µs per 102 | CPU per 102 µs, process | longest slice ms | loop delay p99 / max ms | lateness p99 ms | gap error p99 ms |')
  out.push('|---|---|---|---|---|---|---|---|---|---|---|')
  const rows = sim.map(({ n, rounds: all }) => {
    const failed = all.filter((r) => r.error !== undefined)
    const rounds = all.filter((r) => r.error === undefined)
    if (failed.length > 0) out.push(`| ${n.toLocaleString('en')} | ${failed.length} of ${all.length} rounds failed: ${failed[0].error} ||||||||||`)
    const of = (key, digits) => spread(rounds.map((r) => r[key]), digits)
    const f = {
      n,
      start: of('startMs', 0),
      complete: Math.min(...rounds.map((r) => r.complete)),
      heap: of('heapPerRequest', 0),
      time: of('timePer102Us', 3),
      floor: of('floorTimeUs', 3),
      own: spread(rounds.map((r) => r.timePer102Us - r.floorTimeUs), 3),
      cpu: of('cpuPer102Us', 2),
      slice: of('longestSliceMs', 1),
      eldP99: of('eldP99', 1),
      eldMax: of('eldMax', 1),
      late: of('lateP99', 1),
      gap: of('gapP99', 1)
    }
    const ok = { complete: f.complete === n && failed.length === 0, heap: f.heap.median <= TARGETS.heap, eld: f.eldP99.max <= TARGETS.eldP99 && f.eldMax.max <= TARGETS.eldMax }
    out.push(`| ${n.toLocaleString('en')} | ${f.start.text} | ${f.complete}/${n} ${mark(ok.complete)} | ${f.heap.text} ${mark(ok.heap)} | ${f.time.text} (${f.floor.text}) | ` +
      `${f.own.text} | ${f.cpu.text} | ${f.slice.text} | ${f.eldP99.text} / ${f.eldMax.text} ${mark(ok.eld)} | ${f.late.text} | ${f.gap.text} |`)
    return { ...f, ok }
  })
  const flat = rows.at(-1).time.median / rows[0].time.median
  const flatOk = flat <= TARGETS.simFlat && flat >= 1 / TARGETS.simFlat
  out.push('')
  out.push(`Time per 102 at N = ${rows.at(-1).n.toLocaleString('en')} over N = ${rows[0].n.toLocaleString('en')}: ${fmt(flat, 2)} ${mark(flatOk)} (target within ${TARGETS.simFlat}× either way).`)
  out.push('')
  summary.sim = {
    flat: Number(fmt(flat, 2)),
    rows: rows.map((f) => ({ n: f.n, heap: Math.round(f.heap.median), timePer102Us: Number(fmt(f.time.median, 3)), longestSliceMs: Number(fmt(f.slice.median, 1)), eldMaxMs: Number(fmt(f.eldMax.median, 1)), gapP99Ms: Number(fmt(f.gap.median, 1)), complete: f.complete === f.n }))
  }
}

const commit = (() => {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execSync('git status --porcelain -- index.ts lib bench', { cwd: root, encoding: 'utf8' }).trim() !== ''
    return sha + (dirty ? ' (index.ts, lib/ or bench/ modified)' : '')
  } catch {
    return 'unknown'
  }
})()
const cpus = os.cpus()
const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
  } catch {
    return '?'
  }
}
const machine = [
  `- Command: \`npm run bench${quick ? ' -- --quick' : ''}${option('only') ? ` -- --only=${option('only')}` : ''}\` (${fmt(seconds, 0)} s), at commit ${commit}, ${new Date().toISOString()}`,
  `- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()} (${os.arch()})`,
  `- Node ${process.version}${node24Version ? ` (and ${node24Version} for 2b)` : ''}, fastify ${pkgVersion('fastify')}, autocannon ${pkgVersion('autocannon')}`,
  `- Load average (1 min) at start / end: ${fmt(load0[0], 2)} / ${fmt(load1[0], 2)} (shared machine)`
]

const report = [...machine, '', ...out].join('\n')
console.log(report)

if (write) {
  const file = new URL('../BENCHMARKS.md', import.meta.url)
  const BEGIN = '<!-- bench:begin (generated by `npm run bench`; edits inside are overwritten) -->'
  const END = '<!-- bench:end -->'
  const generated = `${BEGIN}\n${report}\n${END}`
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n'
  const i = text.indexOf(BEGIN)
  const j = text.indexOf(END)
  text = i >= 0 && j > i ? text.slice(0, i) + generated + text.slice(j + END.length) : text.trimEnd() + '\n\n' + generated + '\n'
  writeFileSync(file, text)
  log('bench: BENCHMARKS.md updated')
}

console.log(JSON.stringify(summary))
