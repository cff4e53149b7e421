// `npm run bench`: every benchmark of BENCHMARKS.md in one run, written into its generated section (the
// text around the markers is kept). `npm run bench -- --quick` is a short version that prints the same
// tables and writes nothing. The last line printed is a one-line JSON summary of the headline figures.
//   1. the fast path: one server process, every route interleaved, server CPU per request (fastpath.js)
//   2. real sockets: N slow requests waiting at once, to 15,000, the plugin beside the hand-written
//      reference and the bare-write floor, with a fast route probed during the waves (scale.js), on this
//      Node and on Node 24 and 26
//   3. the socket-free simulation through the real scheduler, to 1,000,000 (sim.js)
// Options: --quick, --write / --no-write (default: write on a full run only),
//          --only=fastpath,scale,node24,node26,sim (a subset). Node 24 and 26 are the npm packages
//          node@24 and node@26 under $NODE_LINES_CACHE/<line> (default .cache/node-lines, where
//          `npm run test:lines` installs them), installed there when absent.
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
const only = option('only')?.split(',') ?? ['fastpath', 'scale', 'node24', 'node26', 'sim']

const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('bench: dist/index.js is missing; run `npm run build` first (`npm run bench` does).')
  process.exit(1)
}

const SETTINGS = quick
  ? {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 4000 }], rounds: 6, warmup: 1 },
      scale: { ns: [100, 1000, 10_000], threshold: 1000, interval: 1000, sleep: 4000, heapRounds: 1, timingRounds: 1 },
      node24: { ns: [1000], threshold: 1000, interval: 1000, sleep: 4000, heapRounds: 1, timingRounds: 1 },
      node26: { ns: [1000], threshold: 1000, interval: 1000, sleep: 4000, heapRounds: 1, timingRounds: 1 },
      sim: { ns: [100, 100_000], threshold: 4000, interval: 1000, waves: 4, rounds: 1 }
    }
  : {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 20_000 }], rounds: 20, warmup: 3 },
      scale: { ns: [100, 1000, 5000, 10_000, 15_000], threshold: 1000, interval: 1000, sleep: 6000, heapRounds: 3, timingRounds: 3 },
      node24: { ns: [100, 1000, 10_000, 15_000], threshold: 1000, interval: 1000, sleep: 6000, heapRounds: 1, timingRounds: 2 },
      node26: { ns: [100, 1000, 10_000, 15_000], threshold: 1000, interval: 1000, sleep: 6000, heapRounds: 1, timingRounds: 2 },
      sim: { ns: [100, 1000, 10_000, 100_000, 1_000_000], threshold: 4000, interval: 1000, waves: 4, rounds: 2 }
    }

// The targets of issues 11 and 19, each checked where the tables say.
const TARGETS = {
  registered: 0.99, // of /none's throughput: CPU per request at most 1 / 0.99 of /none's
  optedVsFloor: 1.02, // × the no-op hook floor (route onRequest + onSend + one shared 'close' listener)
  eldP99: 20, // ms, at every N
  eldMax: 50, // ms, at every N
  probeRatio: 2, // a fast route's p99 during the waves, × its idle p99
  gapOverReference: 5, // ms: the plugin's gap error p99 at most the reference's + this, from 10,000
  heap: 250, // bytes per pending request
  cpuRatio: 1, // CPU per 102 × the hand-written reference's, same run
  simFlat: 1.5 // the simulation's per-102 time, largest N against smallest, either way
}

const log = (line) => console.error(line)
const started = Date.now()
const load0 = os.loadavg()
log(`bench: ${quick ? 'quick' : 'full'} run (${only.join(', ')}), node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`)

function nodeLine (line) {
  const cache = process.env.NODE_LINES_CACHE ?? `${root}.cache/node-lines`
  const bin = `${cache}/${line}/node_modules/node/bin/node`
  if (!existsSync(bin)) {
    log(`bench: installing the npm package node@${line} into ${cache}/${line}`)
    execSync(`npm install --prefix "${cache}/${line}" --no-save --no-package-lock --no-audit --no-fund node@${line}`, { stdio: 'ignore' })
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
const lines = {}
for (const line of [24, 26]) {
  if (!only.includes(`node${line}`)) continue
  const node = nodeLine(line)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  lines[line] = { version, rows: await phase(`node${line}`, () => runScale({ ...SETTINGS[`node${line}`], node, log })) }
}
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
  const { plugin, reference = [], bare } = row.timing
  const of = (list, key) => list.map((f) => f[key])
  const heap = (name) => median(row.heap[name]?.map((p) => p.heapPerRequest) ?? []) - median(row.heap.bare.map((p) => p.heapPerRequest))
  // Each round's plugin phase over the reference (or floor) phase of the same round.
  const ratio = (other) => spread(plugin.map((f, i) => f.cpuPer102Us / other[i]?.cpuPer102Us), 2)
  return {
    n: row.n,
    ok: Math.min(...of(plugin, 'ok')),
    countOk: Math.min(...of(plugin, 'countOk')),
    eldP99: spread(of(plugin, 'eldP99')),
    eldMax: spread(of(plugin, 'eldMax')),
    refEldP99: spread(of(reference, 'eldP99')),
    refEldMax: spread(of(reference, 'eldMax')),
    floorEldMax: spread(of(bare, 'eldMax')),
    probeIdle: row.idleProbe.p99,
    probeRatio: spread(of(plugin, 'probe').map((p) => p?.p99 / row.idleProbe.p99), 2),
    refProbeRatio: spread(of(reference, 'probe').map((p) => p?.p99 / row.idleProbe.p99), 2),
    lateMax: spread(of(plugin, 'lateMax')),
    refLateMax: spread(of(reference, 'lateMax')),
    gapP99: spread(of(plugin, 'gapP99')),
    refGapP99: spread(of(reference, 'gapP99')),
    serverGapP99: spread(of(plugin, 'serverGapP99')),
    refServerGapP99: spread(of(reference, 'serverGapP99')),
    cpuPer102: spread(of(plugin, 'cpuPer102Us'), 2),
    refPer102: spread(of(reference, 'cpuPer102Us'), 2),
    floorPer102: spread(of(bare, 'cpuPer102Us'), 2),
    refRatio: ratio(reference),
    floorRatio: ratio(bare),
    heap: heap('plugin'),
    refHeap: heap('reference'),
    longestSlice: spread(of(plugin, 'longestSliceMs')),
    gcMax: spread(of(plugin, 'gcMaxMs')),
    refGcMax: spread(of(reference, 'gcMaxMs')),
    errors: [...plugin, ...reference].map((f) => f.error).filter(Boolean)
  }
}

function scaleVerdicts (f, interval) {
  return {
    delivery: f.ok === f.n && f.countOk === f.n,
    eld: f.eldP99.max <= TARGETS.eldP99 && f.eldMax.max <= TARGETS.eldMax,
    probe: f.probeRatio.median <= TARGETS.probeRatio,
    late: f.lateMax.max <= interval,
    heap: f.heap <= TARGETS.heap,
    cpu: f.refRatio.median <= TARGETS.cpuRatio,
    gap: f.n < 10_000 || f.gapP99.median <= f.refGapP99.median + TARGETS.gapOverReference
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
    `${s.timingRounds} round${s.timingRounds > 1 ? 's' : ''} per N of three timed phases on the same sockets in the same process: the plugin, ` +
    'the hand-written reference (`setTimeout`, then `setInterval`, calling `res.writeProcessing()`), and the floor (bare 102 writes in one loop ' +
    'per interval); median (range over the rounds). Each cell: **plugin** / reference. CPU per 102: the median over one-interval windows of ' +
    'the steady state. Targets, marked at every N: the plugin\'s CPU per 102 ≤ the reference\'s (same round); ' +
    `loop delay p99 ≤ ${TARGETS.eldP99} ms and max ≤ ${TARGETS.eldMax} ms; a probed fast route's p99 ≤ ${TARGETS.probeRatio}× idle; no 102 more than one ` +
    `interval late; heap ≤ ${TARGETS.heap} B per pending request; from 10,000, gap error p99 ≤ the reference's + ${TARGETS.gapOverReference} ms.`)
  out.push('')
  out.push('| N | 200s, 102 counts ok | CPU/102 µs (floor) | ÷ reference | loop delay p99 / max ms | fast route × idle | lateness max ms | gap error p99 ms, client (server) | heap B/request |')
  out.push('|---|---|---|---|---|---|---|---|---|')
  const verdicts = []
  const pair = (a, b) => `**${a.text}** / ${b.text}`
  for (const row of rows) {
    const f = scaleFigures(row)
    const v = scaleVerdicts(f, s.interval)
    verdicts.push({ n: f.n, ...v })
    out.push(`| ${f.n.toLocaleString('en')} | ${f.ok}/${f.n}, ${f.countOk}/${f.n} ${mark(v.delivery)} | ${pair(f.cpuPer102, f.refPer102)} (${f.floorPer102.text}) | ` +
      `${f.refRatio.text} ${mark(v.cpu)} | ${pair(f.eldP99, f.refEldP99)} / ${pair(f.eldMax, f.refEldMax)} ${mark(v.eld)} | ${pair(f.probeRatio, f.refProbeRatio)} ${mark(v.probe)} | ` +
      `${pair(f.lateMax, f.refLateMax)} ${mark(v.late)} | ${pair(f.gapP99, f.refGapP99)} (${pair(f.serverGapP99, f.refServerGapP99)})${f.n >= 10_000 ? ` ${mark(v.gap)}` : ''} | ` +
      `**${fmt(f.heap, 0)}** / ${fmt(f.refHeap, 0)} ${mark(v.heap)} |` + (f.errors.length > 0 ? ` ${f.errors.join('; ')}` : ''))
  }
  out.push('')
  out.push('Per N, the plugin\'s longest scheduler slice (slices are cut at 5 ms), the longest GC pause in the plugin\'s and the reference\'s phases, ' +
    'the plugin\'s CPU per 102 over the floor\'s, and the floor\'s loop delay max (it writes a wave in one go): ' +
    rows.map((row) => {
      const f = scaleFigures(row)
      return `${f.n.toLocaleString('en')}: ${f.longestSlice.text} ms, GC ${f.gcMax.text} / ${f.refGcMax.text} ms, ${f.floorRatio.text}×, ${f.floorEldMax.text} ms`
    }).join('; ') + '.')
  out.push('')
  return verdicts
}

function brief (f, v) {
  return {
    n: f.n,
    cpuVsReference: Number(fmt(f.refRatio.median, 2)),
    eldP99Ms: Number(fmt(f.eldP99.median, 2)),
    gapP99Ms: [Number(fmt(f.gapP99.median, 1)), Number(fmt(f.refGapP99.median, 1))],
    heapBytesPerRequest: [Math.round(f.heap), Math.round(f.refHeap)],
    missed: Object.entries(v).filter(([k, ok]) => k !== 'n' && !ok).map(([k]) => k)
  }
}

if (scale !== null) {
  const v = scaleTable('2. N slow requests waiting at once, real sockets', scale, SETTINGS.scale, process.version)
  summary.scale = scale.map((row, i) => brief(scaleFigures(row), v[i]))
}
for (const [line, { version, rows }] of Object.entries(lines)) {
  const v = scaleTable(`2${line === '24' ? 'b' : 'c'}. The same on Node ${line}`, rows, SETTINGS[`node${line}`], version)
  summary[`node${line}`] = rows.map((row, i) => brief(scaleFigures(row), v[i]))
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
  `- Node ${process.version}${Object.values(lines).map((l) => ` (and ${l.version})`).join('')}, fastify ${pkgVersion('fastify')}, autocannon ${pkgVersion('autocannon')}`,
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
