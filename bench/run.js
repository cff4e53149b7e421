// `npm run bench`: every benchmark of BENCHMARKS.md in one run, written into its generated section (the
// text around the markers is kept). `npm run bench -- --quick` prints the same tables from shorter runs
// and writes nothing.
//   1. the fast path: one server process, every route interleaved, server CPU per request (fastpath.js)
//   1b. the fast path by instruction count, under callgrind (callgrind.js; full runs only: ~90 s)
//   2. real sockets: N slow requests waiting at once, to 15,000, the plugin beside the hand-written
//      reference and the bare-write floor (scale.js), on this Node and on Node 24 and 26
//   3. the socket-free simulation through the real scheduler, to 1,000,000 (sim.js)
// Options: --quick, --write / --no-write (default: write on a full run without --ns, --aa or --warm-n),
//          --only=fastpath,callgrind,scale,node24,node26,sim (a subset), --ns=100,1000 (section 2's sizes on
//          every line), --aa (section 2 adds a second copy of the reference to every round: the A/A control
//          of its CPU ratio), --warm-n=1000 (the fewest requests of section 2's warm-up phases). Node 24 and
//          26 are the npm packages node@24 and node@26 under $NODE_LINES_CACHE/<line> (default
//          .cache/node-lines, as `npm run test:lines`), installed when absent.
import { execFileSync, execSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median } from './common.js'
import { ROUTES, runFastPath } from './fastpath.js'
import { runScale, TIMING_PHASES, TWIN_PHASE } from './scale.js'
import { runSim } from './sim.js'
import { fmtInterval } from './stats.js'

const args = process.argv.slice(2)
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const quick = args.includes('--quick')
const aa = args.includes('--aa')
const ns = option('ns')?.split(',').map(Number)
const warmN = option('warm-n') === undefined ? undefined : Number(option('warm-n'))
// A run that changes what section 2 measures prints its tables; it does not replace the full run's.
const write = args.includes('--write') || (!quick && !aa && ns === undefined && warmN === undefined && !args.includes('--no-write'))
// callgrind (section 1b, ~90 s of valgrind) is left out of --quick unless --only names it.
const only = option('only')?.split(',') ?? ['fastpath', ...(quick ? [] : ['callgrind']), 'scale', 'node24', 'node26', 'sim']
const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('bench: dist/index.js is missing; run `npm run build` first (`npm run bench` does).')
  process.exit(1)
}

const wave = { threshold: 1000, interval: 1000 }
// Up to 1,000 waiting requests a window holds at most a thousand 102s, and one compile or collection that
// lands in it moves the figure by a third or more: more rounds there, where a round costs about 25 s, and
// a second warm-up round, which leaves less of the paths' compiling to the counted ones.
const SMALL_N = 1000
const bySize = (small, large) => (n) => n <= SMALL_N ? small : large
const SETTINGS = quick
  ? {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 4000 }], rounds: 6, warmup: 1 },
      // No warm-up round: a look at the tables in under 3 minutes, not figures to quote.
      scale: { ns: [1000, 10_000], ...wave, sleep: 4000, heapRounds: 1, warmupRounds: 0, timingRounds: 1 },
      node24: { ns: [1000], ...wave, sleep: 4000, heapRounds: 1, warmupRounds: 0, timingRounds: 1 },
      node26: { ns: [1000], ...wave, sleep: 4000, heapRounds: 1, warmupRounds: 0, timingRounds: 1 },
      sim: { ns: [100, 100_000], threshold: 4000, interval: 1000, waves: 4, rounds: 1 }
    }
  : {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 20_000 }], rounds: 16, warmup: 2 },
      scale: { ns: [100, 1000, 5000, 10_000, 15_000], ...wave, sleep: 7000, heapRounds: 1, warmupRounds: bySize(2, 1), warmupN: SMALL_N, timingRounds: bySize(6, 3) },
      node24: { ns: [100, 1000, 10_000, 15_000], ...wave, sleep: 6000, heapRounds: 1, warmupRounds: bySize(2, 1), warmupN: SMALL_N, timingRounds: bySize(6, 2) },
      node26: { ns: [100, 1000, 10_000, 15_000], ...wave, sleep: 6000, heapRounds: 1, warmupRounds: bySize(2, 1), warmupN: SMALL_N, timingRounds: bySize(6, 2) },
      sim: { ns: [100, 1000, 10_000, 100_000, 1_000_000], threshold: 4000, interval: 1000, waves: 4, rounds: 2 }
    }

// The targets of issue 19, each checked where the tables say.
const TARGETS = {
  registered: 1.01, // CPU per request × /none's
  optedVsFloor: 1.02, // × the no-op hook floor (route onRequest + onSend + one shared 'close' listener)
  cpuRatio: 1, // CPU per 102 × the hand-written reference's, same round
  gapOverReference: 5, // ms: the gap error p99 at most the reference's + this, from 10,000
  eldP99: 20, // ms, at every N
  heap: 250 // bytes per pending request
}

const log = (line) => console.error(line)
const started = Date.now()
const load0 = os.loadavg()[0]
log(`bench: ${quick ? 'quick' : 'full'} run (${only.join(', ')}), node ${process.version}, load average ${load0.toFixed(2)}`)

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
// Its own process: it prints its tables in markdown, kept as they are.
const callgrind = await phase('callgrind', () => execFileSync(process.execPath, [fileURLToPath(new URL('./callgrind.js', import.meta.url))],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))
// The sizes and phases of section 2 as the options say, on every line.
const scaleSettings = (line) => ({ ...SETTINGS[line], ...(ns === undefined ? {} : { ns }), ...(warmN === undefined ? {} : { warmupN: warmN }), timingPhases: aa ? [...TIMING_PHASES, TWIN_PHASE] : TIMING_PHASES })
const scales = [['2', 'Node ' + process.version, await phase('scale', () => runScale({ ...scaleSettings('scale'), log })), scaleSettings('scale')]]
for (const [line, letter] of [[24, 'b'], [26, 'c']]) {
  if (!only.includes(`node${line}`)) continue
  const node = nodeLine(line)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  scales.push([`2${letter}`, `Node ${version}`, await phase(`node${line}`, () => runScale({ ...scaleSettings(`node${line}`), node, log })), scaleSettings(`node${line}`)])
}
const sim = await phase('sim', async () => {
  const rounds = []
  for (let r = 0; r < SETTINGS.sim.rounds; r++) rounds.push(await runSim({ ...SETTINGS.sim, log }))
  return SETTINGS.sim.ns.map((n, i) => ({ n, rounds: rounds.map((list) => list[i]) }))
})

const fmt = (x, digits = 1) => Number.isFinite(x) ? x.toFixed(digits) : '–'
const mark = (ok) => ok ? '✅' : '❌'
/** Median over rounds, and the range when there was more than one: "12.3 (10.1–14.2)". */
function spread (values, digits = 1) {
  const v = values.filter(Number.isFinite)
  if (v.length === 0) return { median: NaN, max: NaN, text: '–' }
  const m = median(v)
  const [min, max] = [Math.min(...v), Math.max(...v)]
  return { median: m, max, text: v.length > 1 ? `${fmt(m, digits)} (${fmt(min, digits)}–${fmt(max, digits)})` : fmt(m, digits) }
}
const out = []

if (fastpath !== null) {
  const { rounds, warmup, shapes: [shape] } = SETTINGS.fastpath
  const row = fastpath[0]
  out.push('### 1. The fast path: a route that answers at once, same process', '')
  out.push(`One server process (\`bench/fastpath-server.js\`) with every route; ${rounds} rounds (after ${warmup} not counted), each running every ` +
    `route once in a shuffled order, ${shape.amount} requests per run, autocannon in this process with ${shape.connections} connections. ` +
    'The figure is the server\'s own CPU per request over the second route\'s in the same round; median of the per-round ratios with a ' +
    '95 % bootstrap interval. Above 1: the first route costs more.', '')
  out.push('| ratio | CPU per request, median [95 % CI] | req/s view (noisier) | target |', '|---|---|---|---|')
  const names = {
    'none2/none': 'A/A: `/none2` / `/none` (twin routes: the noise)',
    'registered/none': 'registered, not opted in / `/none`',
    'opted/none': 'opted in / `/none`',
    'hooks/none': 'no-op route `onRequest` + `onSend` / `/none`',
    'hooksclose/none': 'the same + one shared `\'close\'` listener (the floor) / `/none`',
    'naive/none': 'naive: global hook + `setInterval` / `/none`',
    'opted/hooksclose': '**opted in / the floor**',
    'opted/naive': 'opted in / naive'
  }
  const targets = { 'registered/none': TARGETS.registered, 'opted/hooksclose': TARGETS.optedVsFloor }
  for (const r of row.ratios) {
    const key = `${r.a}/${r.b}`
    const target = targets[key] === undefined ? '–' : `≤ ${targets[key]} ${mark(r.cpu.median <= targets[key])}`
    out.push(`| ${names[key] ?? key} | ${fmtInterval(r.cpu)} | ${fmtInterval(r.rps)} | ${target} |`)
  }
  out.push('', 'Server CPU per request, µs, median [95 % CI]: ' + ROUTES.map((route) => `\`/${route}\` ${fmtInterval(row.abs[route].cpu, 2)}`).join('; ') +
    `. Other processes used ${fmt(row.neighbour.median, 2)} of a core in the median run.`, '')
}

if (callgrind !== null) {
  out.push('### 1b. The fast path by instruction count (callgrind)', '')
  out.push('`bench/callgrind.js`: one server process under `valgrind --tool=callgrind`, every route warmed up uninstrumented, then rounds in ' +
    'a seeded order of: a minor GC, counters zeroed, 400 requests to one route one at a time, a dump. `/floor` is `/hooksclose` under a ' +
    'path as long as `/opted`, and `/plainroute` a plugin-free route as long as `/registered`: a path costs tens of instructions a character. ' +
    `Targets: opted ≤ ${TARGETS.optedVsFloor} × the floor, registered ≤ ${TARGETS.registered} × a plugin-free route.`, '')
  out.push(callgrind.trim(), '')
}

function scaleFigures (row) {
  const { plugin, reference, bare, twin } = row.timing
  const of = (list, key) => spread(list.map((f) => f[key]))
  const heap = (name) => median(row.heap[name].map((p) => p.heapPerRequest)) - median(row.heap.bare.map((p) => p.heapPerRequest))
  // Each round's plugin phase over the reference's (or the floor's) of the same round.
  const ratio = (other, of = plugin) => spread(of.map((f, i) => f.cpuPer102Us / other[i]?.cpuPer102Us), 2)
  const both = (key) => [of(plugin, key), of(reference, key)]
  return {
    n: row.n,
    ok: Math.min(...plugin.map((f) => f.ok)),
    countOk: Math.min(...plugin.map((f) => f.countOk)),
    cpu: [spread(plugin.map((f) => f.cpuPer102Us), 2), spread(reference.map((f) => f.cpuPer102Us), 2)],
    floorCpu: spread(bare.map((f) => f.cpuPer102Us), 2),
    refRatio: ratio(reference),
    floorRatio: ratio(bare),
    twinRatio: twin === undefined ? null : ratio(reference, twin),
    eldP99: both('eldP99'),
    eldMax: both('eldMax'),
    lateMax: both('lateMax'),
    gapP99: both('gapP99'),
    serverGapP99: both('serverGapP99'),
    gcMax: both('gcMaxMs'),
    heap: [heap('plugin'), heap('reference')],
    longestSlice: of(plugin, 'longestSliceMs'),
    floorEldMax: of(bare, 'eldMax'),
    errors: [...plugin, ...reference].map((f) => f.error).filter(Boolean)
  }
}

/** A count of rounds, fixed or by size (`bySize`), in words. */
function rounds (count) {
  return typeof count === 'function' ? `${count(SMALL_N)} round(s) per N up to ${SMALL_N.toLocaleString('en')}, ${count(SMALL_N + 1)} above` : `${count} round(s) per N`
}

for (const [number, node, rows, s] of scales) {
  if (rows === null) continue
  out.push(`### ${number}. N slow requests waiting at once, real sockets, ${node}`, '')
  out.push(`N raw keep-alive connections from a client process; the handler sleeps ${s.sleep / 1000} s; threshold ${s.threshold} ms, interval ` +
    `${s.interval} ms: ${Math.floor((s.sleep - s.threshold) / s.interval) + 1} 102s per request (±1). ${rounds(s.timingRounds)} of three ` +
    'timed phases on the same sockets in the same server: the plugin, the hand-written reference (`setTimeout`, then `setInterval`, calling ' +
    '`res.writeProcessing()`) and the floor (bare 102 writes in one loop per interval); median (range over the rounds). Each cell: ' +
    '**plugin** / reference. CPU per 102: the median over one-interval windows of the steady state. Before the counted rounds, ' +
    `${rounds(s.warmupRounds ?? 1).replace('round(s)', 'warm-up round(s)')} of the three${s.warmupN ? ` (each phase at ${s.warmupN.toLocaleString('en')} requests at least)` : ''}, not counted, and one reply of each route outlives its phase, so that no phase pays for compiling its ` +
    'path again inside its windows (see "CPU per 102 and the JIT" below). Targets: CPU per 102 ≤ the reference\'s ' +
    `in the same round; loop delay p99 ≤ ${TARGETS.eldP99} ms; no 102 more than one interval late; from 10,000, ` +
    `heap ≤ ${TARGETS.heap} B per pending request (below, a few tens of KB in all, inside a collection's leftovers) and gap error p99 ≤ ` +
    `the reference's + ${TARGETS.gapOverReference} ms.`, '')
  out.push('| N | 200s, 102 counts ok | CPU/102 µs (floor) | ÷ reference | loop delay p99 / max ms | lateness max ms | gap error p99 ms, client (server) | heap B/request |')
  out.push('|---|---|---|---|---|---|---|---|')
  const pair = ([a, b]) => `**${typeof a === 'number' ? fmt(a, 0) : a.text}** / ${typeof b === 'number' ? fmt(b, 0) : b.text}`
  for (const f of rows.map(scaleFigures)) {
    const gapOk = f.gapP99[0].median <= f.gapP99[1].median + TARGETS.gapOverReference
    out.push(`| ${f.n.toLocaleString('en')} | ${f.ok}/${f.n}, ${f.countOk}/${f.n} ${mark(f.ok === f.n && f.countOk === f.n)} | ` +
      `${pair(f.cpu)} (${f.floorCpu.text}) | ${f.refRatio.text} ${mark(f.refRatio.median <= TARGETS.cpuRatio)} | ` +
      `${pair(f.eldP99)} / ${pair(f.eldMax)} ${mark(f.eldP99[0].max <= TARGETS.eldP99)} | ${pair(f.lateMax)} ${mark(f.lateMax[0].max <= s.interval)} | ` +
      `${pair(f.gapP99)} (${pair(f.serverGapP99)})${f.n >= 10_000 ? ` ${mark(gapOk)}` : ''} | ${pair(f.heap)}${f.n >= 10_000 ? ` ${mark(f.heap[0] <= TARGETS.heap)}` : ''} |` +
      (f.errors.length > 0 ? ` ${f.errors.join('; ')}` : ''))
  }
  out.push('', 'Per N: the plugin\'s longest scheduler slice (cut at 5 ms); the longest GC pause, **plugin** / reference; the plugin\'s CPU per 102 ' +
    'over the floor\'s; the floor\'s loop delay max (it writes a wave in one go): ' + rows.map(scaleFigures).map((f) =>
    `${f.n.toLocaleString('en')}: ${f.longestSlice.text} ms, ${pair(f.gcMax)} ms, ${f.floorRatio.text}×, ${f.floorEldMax.text} ms`).join('; ') + '.', '')
  if (s.timingPhases.includes(TWIN_PHASE)) {
    out.push('A/A (`--aa`): a second copy of the reference (its own route and closures) ÷ the reference, per round, median (range): ' +
      rows.map(scaleFigures).map((f) => `${f.n.toLocaleString('en')}: ${f.twinRatio.text}`).join('; ') +
      '. A CPU ratio of the plugin inside this spread is one the measurement cannot tell from 1.', '')
  }
}

if (sim !== null) {
  const s = SETTINGS.sim
  out.push('### 3. The socket-free simulation, through the real scheduler', '')
  out.push(`\`bench/sim-worker.js\`, a fresh process per N and round (${s.rounds} round(s): median (range)). N requests start in one burst ` +
    `through the emitter, every 102 of a wave due in the same millisecond; threshold ${s.threshold} ms, interval ${s.interval} ms, ` +
    `${s.waves} waves; a counting transport stands in for the sockets. *Time per 102*: the time inside the scheduler's slices over the ` +
    `102s written in them; *floor*: the same counting write in one plain loop. Targets: every request gets its ${s.waves} 102s; heap ≤ ` +
    `${TARGETS.heap} B per pending request; loop delay p99 ≤ ${TARGETS.eldP99} ms.`, '')
  out.push('| N | complete | heap B/request | time per 102 µs (floor) | CPU per 102 µs, process | longest slice ms | loop delay p99 / max ms | lateness p99 ms | gap error p99 ms |')
  out.push('|---|---|---|---|---|---|---|---|---|')
  for (const { n, rounds: all } of sim) {
    const rounds = all.filter((r) => r.error === undefined)
    const failed = all.length - rounds.length
    const of = (key, digits) => spread(rounds.map((r) => r[key]), digits)
    const complete = Math.min(...rounds.map((r) => r.complete))
    const [heap, eldP99] = [of('heapPerRequest', 0), of('eldP99')]
    out.push(`| ${n.toLocaleString('en')} | ${complete}/${n}${failed > 0 ? ` (${failed} round(s) failed: ${all.find((r) => r.error).error})` : ''} ` +
      `${mark(complete === n && failed === 0)} | ${heap.text} ${mark(heap.median <= TARGETS.heap)} | ${of('timePer102Us', 3).text} (${of('floorTimeUs', 3).text}) | ` +
      `${of('cpuPer102Us', 2).text} | ${of('longestSliceMs').text} | ${eldP99.text} / ${of('eldMax').text} ${mark(eldP99.max <= TARGETS.eldP99)} | ` +
      `${of('lateP99').text} | ${of('gapP99').text} |`)
  }
  out.push('')
}

let commit = 'unknown'
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim()
  if (execSync('git status --porcelain -- index.ts lib bench', { cwd: root, encoding: 'utf8' }).trim() !== '') commit += ' (index.ts, lib/ or bench/ modified)'
} catch {}
const version = (name) => JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')).version
const cpus = os.cpus()
const report = [
  `- Command: \`npm run bench${quick ? ' -- --quick' : ''}${option('only') ? ` -- --only=${option('only')}` : ''}\` ` +
    `(${fmt((Date.now() - started) / 1000, 0)} s), at commit ${commit}, ${new Date().toISOString()}`,
  `- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()} (${os.arch()})`,
  `- fastify ${version('fastify')}, autocannon ${version('autocannon')}; load average (1 min) at start / end: ${fmt(load0, 2)} / ${fmt(os.loadavg()[0], 2)} (shared machine)`,
  '', ...out
].join('\n')
console.log(report)

if (write) {
  const file = new URL('../BENCHMARKS.md', import.meta.url)
  const BEGIN = '<!-- bench:begin (generated by `npm run bench`; edits inside are overwritten) -->'
  const END = '<!-- bench:end -->'
  let text = readFileSync(file, 'utf8')
  const [i, j] = [text.indexOf(BEGIN), text.indexOf(END)]
  const generated = `${BEGIN}\n${report}\n${END}`
  text = i >= 0 && j > i ? text.slice(0, i) + generated + text.slice(j + END.length) : text.trimEnd() + '\n\n' + generated + '\n'
  writeFileSync(file, text)
  log('bench: BENCHMARKS.md updated')
}
