// `npm run bench`: throughput overhead on fast routes, then N slow requests waiting at once, then the
// tables, written into BENCHMARKS.md (between the generated-section markers; the text around them is
// kept). `npm run bench -- --quick` is a short version that prints the same tables and writes nothing.
// The last line printed is a one-line JSON summary of the headline figures.
//
// Options: --quick, --write / --no-write (default: write on a full run only), --only=throughput|scale,
// --pin (pin the throughput servers to CPU 0 and this process to CPU 1; worse when neighbours are busy).
import { execSync } from 'node:child_process'
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median } from './common.js'
import { runScale } from './scale.js'
import { NEIGHBOUR_LIMIT, runThroughput } from './throughput.js'

const args = new Set(process.argv.slice(2))
const option = (name) => [...args].find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const quick = args.has('--quick')
const write = args.has('--write') || (!quick && !args.has('--no-write'))
const only = option('only')
const pin = args.has('--pin')

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = new URL('../dist/index.js', import.meta.url)
if (!existsSync(dist)) {
  console.error('bench: dist/index.js is missing; run `npm run build` first (`npm run bench` does).')
  process.exit(1)
}

const SETTINGS = quick
  ? {
      throughput: { rounds: 1, pairs: 5, duration: 0.3, warmup: 0.3 },
      scale: { ns: [100, 1000, 10_000], threshold: 1000, interval: 1000, sleep: 3500, heapRounds: 1 }
    }
  : {
      throughput: { rounds: 3, pairs: 4, duration: 1, warmup: 1.5 },
      scale: { ns: [100, 1000, 5000, 10_000], threshold: 1000, interval: 1000, sleep: 10_000, heapRounds: (n) => n <= 1000 ? 7 : 3 }
    }

const TARGETS = {
  plain: 0.99,
  opted: 0.95,
  optedVsNaive: 1.0,
  eldP99: 20,
  cpuRatio: 1.5,
  heapPerRequest: 512,
  lateP99: 15
}

if (pin) execSync(`taskset -a -p -c 1 ${process.pid}`, { stdio: 'ignore' })

const log = (line) => console.error(line)
const fmtS = (ms) => `${(ms / 1000).toFixed(0)} s`
const started = Date.now()
const load0 = os.loadavg()
log(`bench: ${quick ? 'quick' : 'full'} run, node ${process.version}, load average ${load0.map((l) => l.toFixed(2)).join(' ')}`)

const throughput = only === undefined || only === 'throughput'
  ? await runThroughput({ ...SETTINGS.throughput, pin, log })
  : null
log(`bench: throughput done after ${fmtS(Date.now() - started)}`)
const scale = only === undefined || only === 'scale'
  ? await runScale({ ...SETTINGS.scale, log })
  : null
log(`bench: scale done after ${fmtS(Date.now() - started)}`)
const load1 = os.loadavg()
const seconds = (Date.now() - started) / 1000

// ---------------------------------------------------------------------------------------------------
// Figures

const ordinal = (i) => i + (i % 10 === 1 && i !== 11 ? 'st' : i % 10 === 2 && i !== 12 ? 'nd' : i % 10 === 3 && i !== 13 ? 'rd' : 'th')
const hooks = ({ route, global }) => {
  const list = [...Object.entries(route ?? {}).map(([k, v]) => [k, v, 'route']), ...Object.entries(global ?? {}).map(([k, v]) => [k, v, 'global'])]
    .filter(([, v]) => v > 0).map(([k, v, where]) => `${v} ${k} (${where})`)
  return list.length === 0 ? 'none' : list.join(', ')
}
const fmt = (x, digits = 1) => Number.isFinite(x) ? x.toFixed(digits) : '–'
const mark = (ok) => ok ? '✅' : '❌'

function heapPerRequest (row, name) {
  // Heap per pending request on this route, minus the same on the route without the plugin; each
  // round's phases ran back to back, the median over rounds is taken.
  return median(row.heap[name].map((p) => p.heapPerRequest)) - median(row.heap.bare.map((p) => p.heapPerRequest))
}

function scaleFigures (row, name) {
  const t = row.timing[name]
  const floor = row.timing.bare
  const first = t.byK[0]
  const last = t.byK[t.lastK]
  return {
    n: row.n,
    ok: t.ok,
    countOk: t.countOk,
    counts: t.counts,
    expected: t.expected,
    errors: t.errors,
    eldP50: t.eldP50,
    eldP99: t.eldP99,
    eldMax: t.eldMax,
    cpuPer102Us: t.cpuPer102Us,
    floorUs: floor.cpuPer102Us,
    cpuRatio: t.cpuPer102Us / floor.cpuPer102Us,
    sentPerSecond: t.sentPerSecond,
    heapPerRequest: heapPerRequest(row, name),
    heapBare: median(row.heap.bare.map((p) => p.heapPerRequest)),
    lateP50: t.lateP50,
    lateP99: t.lateP99,
    lateMax: t.lateMax,
    firstP50: first.p50,
    firstP99: first.p99,
    lastP50: last.p50,
    lastP99: last.p99,
    lastIndex: t.lastK + 1,
    racingP99: t.racingP99,
    rampMs: t.rampMs,
    othersCores: t.othersCores,
    error: t.error
  }
}

function verdicts (f) {
  return {
    eld: f.eldP99 <= TARGETS.eldP99,
    cpu: f.cpuRatio <= TARGETS.cpuRatio,
    heap: f.heapPerRequest <= TARGETS.heapPerRequest,
    late: f.lateP99 <= TARGETS.lateP99,
    // No drift: the last 102 before the handler wakes is, in the median, no later than the first
    // (1 ms: Node's timer granularity).
    drift: f.lastP50 <= f.firstP50 + 1,
    delivery: f.ok === f.n && f.countOk === f.n
  }
}

// ---------------------------------------------------------------------------------------------------
// Tables

const out = []
const nTop = scale?.at(-1)?.n

if (throughput !== null) {
  const s = SETTINGS.throughput
  out.push('### Throughput overhead on a route that answers at once')
  out.push('')
  out.push(`autocannon, 100 connections, pipelining 10, runs of ${s.duration} s in alternating pairs (A B, then B A); ` +
    `${s.rounds} round${s.rounds > 1 ? 's' : ''} of fresh server processes, ${s.pairs} pairs per row in each; ` +
    'the ratio is the median of the per-pair ratios B/A. CPU ratio: CPU time per request in the server process, A/B (also > 1 when B is cheaper). ' +
    `A pair during which other processes used more than ${NEIGHBOUR_LIMIT} of a core is dropped and run again; ` +
    '"neighbour" is the median of that figure over all pairs run.')
  out.push('')
  out.push('| B vs A | req/s ratio (median) | range over pairs | CPU/request ratio | A req/s | B req/s | pairs kept / dropped | neighbour (cores) | hooks B runs per request | target | met |')
  out.push('|---|---|---|---|---|---|---|---|---|---|---|')
  const target = { plain: TARGETS.plain, opted: TARGETS.opted, alt: TARGETS.opted }
  for (const r of throughput) {
    let t = null
    if (r.a === 'baseline' && target[r.b] !== undefined) t = target[r.b]
    if (r.a === 'naive' && r.b === 'opted') t = TARGETS.optedVsNaive
    const label = r.a === 'baseline' && r.b === 'baseline2' ? 'baseline vs baseline (A/A: the noise)' : `${r.b} vs ${r.a}`
    if (r.a === 'opted' && r.b === 'alt') t = null
    out.push(`| ${label} | ${fmt(r.ratio, 3)} | ${fmt(r.minRatio, 2)}–${fmt(r.maxRatio, 2)} | ${fmt(r.cpuRatio, 3)} | ` +
      `${fmt(r.aRps, 0)} | ${fmt(r.bRps, 0)} | ${r.pairs} / ${r.dropped} | ${fmt(r.neighbour, 2)} | ${hooks(r.bHooks)} | ` +
      `${t === null ? '–' : `≥ ${t}`} | ${t === null ? '–' : mark(r.ratio >= t)} |`)
  }
  out.push('')
}

if (scale !== null) {
  const s = SETTINGS.scale
  const figures = (name) => scale.map((row) => scaleFigures(row, name))
  const table = (title, rows) => {
    out.push(`### ${title}`)
    out.push('')
    out.push('| N | final 200s | 102 count ok | loop delay p50 / p99 ms | CPU/102 µs | floor µs | ratio | heap B/request | lateness p50 / p99 ms | 1st p50 / p99 ms | ' +
      `${ordinal(rows[0]?.lastIndex)} p50 / p99 ms |`)
    out.push('|---|---|---|---|---|---|---|---|---|---|---|')
    for (const f of rows) {
      const v = verdicts(f)
      const top = f.n === nTop
      const m = (ok) => top ? ` ${mark(ok)}` : ''
      out.push(`| ${f.n} | ${f.ok}/${f.n} | ${f.countOk}/${f.n}${m(v.delivery)} | ${fmt(f.eldP50, 2)} / ${fmt(f.eldP99, 2)}${m(v.eld)} | ` +
        `${fmt(f.cpuPer102Us, 2)} | ${fmt(f.floorUs, 2)} | ${fmt(f.cpuRatio, 2)}${m(v.cpu)} | ${fmt(f.heapPerRequest, 0)}${m(v.heap)} | ` +
        `${fmt(f.lateP50, 2)} / ${fmt(f.lateP99, 2)}${m(v.late)} | ${fmt(f.firstP50, 2)} / ${fmt(f.firstP99, 2)} | ` +
        `${fmt(f.lastP50, 2)} / ${fmt(f.lastP99, 2)}${m(v.drift)} |` + (f.error ? ` ${f.error}` : ''))
    }
    out.push('')
  }
  out.push(`### ${s.ns.length} levels of N slow requests waiting at once`)
  out.push('')
  out.push(`Handler sleeps ${s.sleep / 1000} s; threshold ${s.threshold} ms, interval ${s.interval} ms: ` +
    `${Math.floor((s.sleep - s.threshold) / s.interval) + 1} 102s expected per request (±1). ` +
    `Targets at N = ${nTop} (marked): loop delay p99 ≤ ${TARGETS.eldP99} ms, CPU/102 ≤ ${TARGETS.cpuRatio}× the floor, ` +
    `heap ≤ ${TARGETS.heapPerRequest} B/request, lateness p99 ≤ ${TARGETS.lateP99} ms, and the last 102 before the handler wakes ` +
    'no later (median, ±1 ms) than the first.')
  out.push('')
  table('This plugin (dist/): the shared scheduler', figures('plugin'))
  out.push('### Details')
  out.push('')
  out.push('| N | design | ramp ms | 102s/s sent | loop delay max ms | lateness max ms | last 102 (due as the handler wakes) p99 ms | 102 counts (count: requests) | no-plugin heap B/request | other processes, client included (cores) |')
  out.push('|---|---|---|---|---|---|---|---|---|---|')
  for (const row of scale) {
    for (const name of ['plugin']) {
      const f = scaleFigures(row, name)
      const counts = Object.entries(f.counts).map(([k, v]) => `${k}: ${v}`).join(', ')
      out.push(`| ${row.n} | ${name} | ${fmt(f.rampMs, 0)} | ${fmt(f.sentPerSecond, 0)} | ${fmt(f.eldMax, 1)} | ${fmt(f.lateMax, 1)} | ` +
        `${fmt(f.racingP99, 1)} | ${counts} | ${fmt(f.heapBare, 0)} | ${fmt(f.othersCores, 2)} |`)
    }
  }
  out.push('')
  out.push(`Lateness by rank at N = ${nTop}, median (p99) in ms, 1st to ${ordinal(scale.at(-1).timing.plugin.lastK + 1)} 102: drift would grow along the row.`)
  out.push('')
  for (const name of ['plugin']) {
    const byK = scale.at(-1).timing[name].byK
    out.push(`- ${name}: ${byK.map((k) => `${fmt(k.p50, 1)} (${fmt(k.p99, 0)})`).join(', ')}`)
  }
  out.push('')
}

const commit = (() => {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execSync('git status --porcelain -- index.ts lib', { cwd: root, encoding: 'utf8' }).trim() !== ''
    return sha + (dirty ? ' (index.ts or lib/ modified)' : '')
  } catch {
    return 'unknown'
  }
})()
const cpus = os.cpus()
const machine = [
  `- Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (${fmt(seconds, 0)} s), at commit ${commit}, ${new Date().toISOString()}`,
  `- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()} (${os.arch()})`,
  `- Node ${process.version}, fastify ${pkgVersion('fastify')}, autocannon ${pkgVersion('autocannon')}`,
  `- Load average (1 min) at start / end: ${fmt(load0[0], 2)} / ${fmt(load1[0], 2)} (shared machine)`
]

function pkgVersion (name) {
  try {
    return JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
  } catch {
    return '?'
  }
}

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

// ---------------------------------------------------------------------------------------------------
// One-line JSON summary: the last line printed.

const summary = { quick, seconds: Math.round(seconds), node: process.version }
if (throughput !== null) {
  const ratio = (a, b) => Number(throughput.find((r) => r.a === a && r.b === b)?.ratio.toFixed(3))
  summary.throughput = {
    aa: ratio('baseline', 'baseline2'),
    plain: ratio('baseline', 'plain'),
    opted: ratio('baseline', 'opted'),
    naive: ratio('baseline', 'naive'),
    optedVsNaive: ratio('naive', 'opted'),
    alt: ratio('baseline', 'alt'),
    altVsOpted: ratio('opted', 'alt')
  }
}
if (scale !== null) {
  const top = scale.at(-1)
  const brief = (name) => {
    const f = scaleFigures(top, name)
    const v = verdicts(f)
    return {
      eldP99Ms: Number(fmt(f.eldP99, 2)),
      cpuPer102Us: Number(fmt(f.cpuPer102Us, 2)),
      floorUs: Number(fmt(f.floorUs, 2)),
      cpuRatio: Number(fmt(f.cpuRatio, 2)),
      heapBytesPerRequest: Math.round(f.heapPerRequest),
      lateP50Ms: Number(fmt(f.lateP50, 2)),
      lateP99Ms: Number(fmt(f.lateP99, 2)),
      firstP50Ms: Number(fmt(f.firstP50, 2)),
      lastP50Ms: Number(fmt(f.lastP50, 2)),
      delivered: `${f.countOk}/${f.n}`,
      met: Object.entries(v).filter(([, ok]) => ok).map(([k]) => k),
      missed: Object.entries(v).filter(([, ok]) => !ok).map(([k]) => k)
    }
  }
  summary.n = top.n
  summary.plugin = brief('plugin')
}
console.log(JSON.stringify(summary))
