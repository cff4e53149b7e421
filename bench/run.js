// `npm run bench` (from the repository's root): every benchmark of BENCHMARKS.md in one run, its tables
// written into BENCHMARKS.md's generated section. `npm run bench -- --quick`: shorter runs, nothing
// written. Either prints the report, then ONE JSON line of the headline figures and targets.
//   1. the fast path: one server process, every route interleaved, server CPU per request (fastpath.js)
//   1b. the same by instruction count, under callgrind (callgrind.js; full runs, where valgrind is installed)
//   2. the cost of a slow request, taken apart, the plugin beside the hand-written loop (cost.js), on
//      this Node and on Node 24 and 26
//   3. the gate's share of a first 102: its decision timed alone (gate.js)
// Options: --quick; --write / --no-write (default: write on a full run without --only, --ns or --rounds);
//          --only=fastpath,callgrind,node20,node24,node26,gate; --ns=100,1000 (section 2's sizes); --rounds=N (its rounds).
// Node 24 and 26 are the npm packages node@24 and node@26 under $NODE_LINES_CACHE/<line> (default
// .cache/node-lines, as `npm run test:lines`), installed when absent.
import { execFileSync, execSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { median } from './common.js'
import { runCost, HEADER_SETS } from './cost.js'
import { ROUTES, runFastPath } from './fastpath.js'
import { fmtInterval } from './stats.js'

const args = process.argv.slice(2)
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
const quick = args.includes('--quick')
const ns = option('ns')?.split(',').map(Number)
const roundsOption = option('rounds') === undefined ? undefined : Number(option('rounds'))
const write = args.includes('--write') || (!quick && option('only') === undefined && ns === undefined && roundsOption === undefined && !args.includes('--no-write'))
const valgrind = (() => { try { execSync('command -v valgrind callgrind_control', { stdio: 'ignore' }); return true } catch { return false } })()
const only = option('only')?.split(',') ?? ['fastpath', ...(quick || !valgrind ? [] : ['callgrind']), 'node20', 'node24', 'node26', 'gate']
const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('bench: dist/index.js is missing; run `npm run build` first (`npm run bench` does).')
  process.exit(1)
}

// Threshold 1 s, interval 500 ms; from 10,000, 3 s and 1 s: the requests take up to 2.5 s to arrive on
// a loaded machine, and the first 102s must not be due before the last has arrived. The handler
// answers half an interval after the third 102: one first 102 and two later ones per request.
const thresholdOf = (n) => n >= 10_000 ? 3000 : 1000
const intervalOf = (n) => n >= 10_000 ? 1000 : 500
const SETTINGS = quick
  ? {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 4000 }], rounds: 6, warmup: 1 },
      // 10,000 with the browser's headers only: the heap figure needs it (below, a few hundred KB in all
      // sit inside a collection's leftovers).
      cost: { ns: [1000, 10_000], sets: (n) => n >= 10_000 ? ['browser'] : Object.keys(HEADER_SETS), rounds: () => 1, warmupN: 1000 }
    }
  : {
      fastpath: { shapes: [{ connections: 10, pipelining: 1, amount: 10_000 }], rounds: 12, warmup: 2 },
      cost: { ns: [100, 1000, 10_000], rounds: (n) => n === 1000 ? 5 : n >= 10_000 ? 2 : 3, warmupN: 1000 }
    }
const costSettings = {
  ...SETTINGS.cost,
  ...(ns === undefined ? {} : { ns }),
  ...(roundsOption === undefined ? {} : { rounds: () => roundsOption }),
  threshold: thresholdOf,
  interval: intervalOf,
  sleep: (n) => thresholdOf(n) + 2.5 * intervalOf(n)
}

// Issue 31's targets, each checked where the tables say.
const TARGETS = {
  fastPath: 1.02, // CPU per request × the no-op-hook floor's (route onRequest + onSend + one 'close' listener)
  perRequestN: 1000, // where the plugin's CPU per request (one 102 each) must be at most the loop's
  per102: 1, // CPU per later 102 × the loop's, same round, at every N
  heap: 250, // bytes per waiting request, from HEAP_N (below it, a few hundred KB in all: a collection's leftovers)
  heapN: 10_000,
  eldP99: 20 // ms, at every N
}

const log = (line) => console.error(line)
const started = Date.now()
const load0 = os.loadavg()[0]
log(`bench: ${quick ? 'quick' : 'full'} run (${only.join(', ')}), node ${process.version}, load average ${load0.toFixed(2)}`)

function nodeLine (line) {
  if (line === 20) return process.execPath
  const cache = process.env.NODE_LINES_CACHE ?? `${root}.cache/node-lines`
  const bin = `${cache}/${line}/node_modules/node/bin/node`
  if (!existsSync(bin)) {
    log(`bench: installing the npm package node@${line} into ${cache}/${line}`)
    execSync(`npm install --prefix "${cache}/${line}" --no-save --no-package-lock --no-audit --no-fund node@${line}`, { stdio: 'ignore' })
  }
  return bin
}

async function phase (name, fn) {
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
const lines = []
for (const line of [20, 24, 26]) {
  if (!only.includes(`node${line}`)) continue
  const node = nodeLine(line)
  const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
  const rows = await phase(`node${line}`, () => runCost({ ...costSettings, node, log }))
  if (rows !== null) lines.push({ line, version, rows })
}

const gate = await phase('gate', () => execFileSync(process.execPath, [fileURLToPath(new URL('./gate.js', import.meta.url))],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }))

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

const PARTS = ['setupUs', 'firstUs', 'teardownUs']
/** Per round of one header set: each mode's CPU per request above /plain's in the same round, by part. */
function extras (timing, n) {
  return timing.plain.map((plain, r) => Object.fromEntries(['loop', 'plugin'].map((mode) => {
    const f = timing[mode][r]
    const parts = PARTS.map((part) => (f[part] - plain[part]) / n)
    return [mode, { parts, total: parts.reduce((a, b) => a + b, 0), per102: f.per102Us }]
  })))
}

/** The figures of one N on one line: per header set, and pooled over the sets for the targets. */
function figures (row) {
  const sets = Object.keys(row.timing)
  const bySet = Object.fromEntries(sets.map((set) => [set, extras(row.timing[set], row.n)]))
  const pooled = sets.flatMap((set) => bySet[set])
  const all = sets.flatMap((set) => ['loop', 'plugin'].flatMap((mode) => row.timing[set][mode]))
  const plugin = sets.flatMap((set) => row.timing[set].plugin)
  return {
    n: row.n,
    bySet,
    total: { plugin: spread(pooled.map((r) => r.plugin.total)), loop: spread(pooled.map((r) => r.loop.total)) },
    per102: { plugin: spread(pooled.map((r) => r.plugin.per102), 2), loop: spread(pooled.map((r) => r.loop.per102), 2) },
    ratio: spread(pooled.map((r) => r.plugin.per102 / r.loop.per102), 2),
    heap: row.heap,
    eldP99: spread(plugin.map((f) => f.eldP99)),
    eldP99Loop: spread(sets.flatMap((set) => row.timing[set].loop).map((f) => f.eldP99)),
    eldP99Plain: spread(sets.flatMap((set) => row.timing[set].plain).map((f) => f.eldP99)),
    ok: all.every((f) => f.ok === f.n),
    counts: plugin.every((f) => f.countOk === f.n),
    overlap: all.some((f) => f.overlap),
    rampMs: spread(plugin.map((f) => f.rampMs), 0)
  }
}

const out = []
const summary = { node: {}, targets: {} }

if (fastpath !== null) {
  const { rounds, warmup, shapes: [shape] } = SETTINGS.fastpath
  const row = fastpath[0]
  out.push('### 1. The fast path: a route that answers at once', '')
  out.push(`\`bench/fastpath.js\`: one server process with every route; ${rounds} rounds (after ${warmup} not counted), each running every ` +
    `route once in a shuffled order, ${shape.amount} requests a run, autocannon in the parent with ${shape.connections} connections. ` +
    'Server CPU per request over the second route\'s in the same round; median of the per-round ratios [95 % bootstrap interval].', '')
  out.push('| ratio | CPU per request | req/s view (noisier) | target |', '|---|---|---|---|')
  const names = {
    'none2/none': 'A/A: `/none2` / `/none` (the noise)',
    'registered/none': 'registered, not opted in / `/none`',
    'opted/none': 'opted in / `/none`',
    'hooks/none': 'no-op route `onRequest` + `onSend` / `/none`',
    'hooksclose/none': 'the same + one `\'close\'` listener (the floor) / `/none`',
    'naive/none': 'naive: global hook + `setInterval` / `/none`',
    'opted/hooksclose': '**opted in / the floor**',
    'opted/naive': 'opted in / naive'
  }
  for (const r of row.ratios) {
    const key = `${r.a}/${r.b}`
    const target = key === 'opted/hooksclose' ? `≤ ${TARGETS.fastPath} ${mark(r.cpu.median <= TARGETS.fastPath)}` : '–'
    out.push(`| ${names[key] ?? key} | ${fmtInterval(r.cpu)} | ${fmtInterval(r.rps)} | ${target} |`)
  }
  out.push('', 'Server CPU per request, µs: ' + ROUTES.map((route) => `\`/${route}\` ${fmtInterval(row.abs[route].cpu, 2)}`).join('; ') +
    `. Other processes used ${fmt(row.neighbour.median, 2)} of a core in the median run.`, '')
  const floor = row.ratios.find((r) => r.a === 'opted' && r.b === 'hooksclose').cpu
  summary.fastPath = { median: +floor.median.toFixed(3), lo: +floor.lo.toFixed(3), hi: +floor.hi.toFixed(3) }
  summary.targets.fastPath = floor.median <= TARGETS.fastPath
}

if (callgrind !== null) {
  out.push('### 1b. The fast path by instruction count (callgrind)', '')
  out.push('`bench/callgrind.js`: one server process under `valgrind --tool=callgrind`, every route warmed up uninstrumented, then rounds in ' +
    'a seeded order of: a minor GC, counters zeroed, 400 requests to one route one at a time, a dump. `/floor` is `/hooksclose` under a ' +
    'path as long as `/opted`, and `/plainroute` a plugin-free route as long as `/registered`: a path costs tens of instructions a character.', '')
  out.push(callgrind.trim(), '')
  // Below section 1's noise (its A/A row), so it decides the fast-path target where it ran.
  const ratio = Number(/\| opted \/ floor \| ([\d.]+) \|/.exec(callgrind)?.[1])
  summary.fastPathInstructions = ratio
  summary.targets.fastPath = ratio <= TARGETS.fastPath
}

for (const { line, version, rows } of lines) {
  const all = rows.map(figures)
  const s = costSettings
  out.push(`### 2${line === 20 ? '' : line === 24 ? 'b' : 'c'}. The cost of a slow request, taken apart: Node ${version}`, '')
  out.push(`Per N: ${rows.map((r) => `${r.n.toLocaleString('en')}: ${s.rounds(r.n)} round(s), threshold ${r.threshold} ms, interval ${r.interval} ms`).join('; ')}; ` +
    'the handler answers half an interval after the third 102. ' +
    'CPU per request above `/plain` (same headers, same round), µs: **plugin** / loop, median (range) over rounds.', '')
  out.push('| N | headers | setup | first 102 | teardown | total, one 102 | later 102, µs each | ÷ loop |', '|---|---|---|---|---|---|---|---|')
  for (const f of all) {
    for (const [set, rounds] of Object.entries(f.bySet)) {
      const cell = (pick, digits = 1) => `**${spread(rounds.map((r) => pick(r.plugin)), digits).text}** / ${spread(rounds.map((r) => pick(r.loop)), digits).text}`
      out.push(`| ${f.n.toLocaleString('en')} | ${set} | ${PARTS.map((_, i) => cell((m) => m.parts[i])).join(' | ')} | ${cell((m) => m.total)} | ` +
        `${cell((m) => m.per102, 2)} | ${spread(rounds.map((r) => r.plugin.per102 / r.loop.per102), 2).text} |`)
    }
  }
  out.push('', '| N | total, one 102, all sets: plugin / loop µs | CPU per later 102 ÷ loop | heap B per waiting request, plugin / loop | loop delay p99 ms, plugin / loop (no 102) | ramp ms | every 200, 102 counts ok |')
  out.push('|---|---|---|---|---|---|---|')
  for (const f of all) {
    const perRequest = f.n === TARGETS.perRequestN ? ` ${mark(f.total.plugin.median <= f.total.loop.median)}` : ''
    out.push(`| ${f.n.toLocaleString('en')} | **${f.total.plugin.text}** / ${f.total.loop.text}${perRequest} | ${f.ratio.text} ${mark(f.ratio.median <= TARGETS.per102)} | ` +
      `**${fmt(f.heap.plugin, 0)}** / ${fmt(f.heap.loop, 0)}${f.n >= TARGETS.heapN ? ` ${mark(f.heap.plugin <= TARGETS.heap)}` : ''} | **${f.eldP99.text}** / ${f.eldP99Loop.text} (${f.eldP99Plain.text}) ${mark(f.eldP99.median <= TARGETS.eldP99)} | ` +
      `${f.rampMs.text}${f.overlap ? ' (a first 102 fell outside its window)' : ''} | ${mark(f.ok && f.counts)} |`)
  }
  out.push('')
  const at = all.find((f) => f.n === TARGETS.perRequestN)
  summary.node[version] = {
    perRequestUs: at === undefined ? null : { plugin: +at.total.plugin.median.toFixed(1), loop: +at.total.loop.median.toFixed(1) },
    per102Ratio: Object.fromEntries(all.map((f) => [f.n, +f.ratio.median.toFixed(2)])),
    heapB: Object.fromEntries(all.map((f) => [f.n, Math.round(f.heap.plugin)])),
    eldP99Ms: Object.fromEntries(all.map((f) => [f.n, +f.eldP99.median.toFixed(1)]))
  }
  summary.targets[version] = {
    perRequest: at === undefined ? null : at.total.plugin.median <= at.total.loop.median,
    per102: all.every((f) => f.ratio.median <= TARGETS.per102),
    heap: all.some((f) => f.n >= TARGETS.heapN) ? all.every((f) => f.n < TARGETS.heapN || f.heap.plugin <= TARGETS.heap) : null,
    eldP99: all.every((f) => f.eldP99.median <= TARGETS.eldP99),
    wire: all.every((f) => f.ok && f.counts)
  }
}

if (gate !== null) {
  out.push('### 3. The gate\'s share of a first 102', '')
  out.push('`bench/gate.js`: `decide()` from `dist/lib/gate.js` timed alone, in this process (Node ' + process.version + '), on 2,000 real Fastify ' +
    'requests per header set (made with `inject()`), with the options the plugin resolved for the route; 7 rounds of 20 calls per request. ' +
    'Compare with the first 102 in section 2.', '')
  out.push(gate.trim(), '')
}

if (lines.length > 0) {
  out.push('### Targets (issue 31)', '')
  out.push(`| target | ${lines.map((l) => `Node ${l.version}`).join(' | ')} |`, `|---|${lines.map(() => '---|').join('')}`)
  const row = (label, key) => out.push(`| ${label} | ${lines.map((l) => { const v = summary.targets[l.version][key]; return v === null ? '–' : mark(v) }).join(' | ')} |`)
  row(`one 102 per request at ${TARGETS.perRequestN.toLocaleString('en')}: plugin CPU per request ≤ loop's`, 'perRequest')
  row('CPU per later 102 ≤ loop\'s, at every N', 'per102')
  row(`heap ≤ ${TARGETS.heap} B per waiting request (from ${TARGETS.heapN.toLocaleString('en')})`, 'heap')
  row(`loop delay p99 ≤ ${TARGETS.eldP99} ms`, 'eldP99')
  if (summary.targets.fastPath !== undefined) {
    out.push(`| fast path ≤ ${TARGETS.fastPath} × the no-op-hook floor | ${mark(summary.targets.fastPath)} (Node ${process.version}: ${callgrind === null ? 'section 1, CPU' : 'section 1b, instructions'}) |`)
  }
  out.push('')
}

let commit = 'unknown'
try {
  commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim()
  if (execSync('git status --porcelain -- index.ts lib bench', { cwd: root, encoding: 'utf8' }).trim() !== '') commit += ' (index.ts, lib/ or bench/ modified)'
} catch {}
const version = (name, dir = '../node_modules') => JSON.parse(readFileSync(new URL(`${dir}/${name}/package.json`, import.meta.url), 'utf8')).version
const cpus = os.cpus()
const seconds = (Date.now() - started) / 1000
const report = [
  `- Command: \`npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}\` (${fmt(seconds, 0)} s), at commit ${commit}, ${new Date().toISOString()}`,
  `- Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, ${os.type()} ${os.release()} (${os.arch()})`,
  `- fastify ${version('fastify')}, autocannon ${version('autocannon', './node_modules')}; load average (1 min) at start / end: ${fmt(load0, 2)} / ${fmt(os.loadavg()[0], 2)} (a shared machine: other processes ran)`,
  `- Header sets (after \`Host\`): ${Object.entries(HEADER_SETS).map(([name, lines]) => `${name} ${lines.length}`).join(', ')} lines; \`bench/cost.js\` lists them.`,
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
console.log(JSON.stringify({ quick, seconds: Math.round(seconds), ...summary }))
