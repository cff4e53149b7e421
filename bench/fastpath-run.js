#!/usr/bin/env node
// npm run bench:fastpath: the same-process fast-path benchmark on its own (bench/fastpath.js), printing
// each ratio as median [95 % bootstrap interval] of the per-round ratios, and a JSON line at the end.
//   node bench/fastpath-run.js [--rounds N] [--warmup N] [--amount N] [--connections N] [--pipelining N]
import { parseArgs } from 'node:util'
import { runFastPath } from './fastpath.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    amount: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '10' },
    pipelining: { type: 'string', default: '1' }
  }
})
const shape = { connections: Number(values.connections), pipelining: Number(values.pipelining), amount: Number(values.amount) }
const started = performance.now()
const [row] = await runFastPath({ shapes: [shape], rounds: Number(values.rounds), warmup: Number(values.warmup) })
const fmt = (s) => `${s.median.toFixed(3)} [${s.lo.toFixed(3)}, ${s.hi.toFixed(3)}]`
console.log('| ratio (CPU per request) | median [95 % CI] | req/s view |\n|---|---|---|')
for (const r of row.ratios) console.log(`| ${r.a} / ${r.b} | ${fmt(r.cpu)} | ${fmt(r.rps)} |`)
console.log(JSON.stringify({ node: process.version, shape, rounds: row.rounds, seconds: Math.round((performance.now() - started) / 1000), ratios: Object.fromEntries(row.ratios.map((r) => [`${r.a}/${r.b}`, { median: r.cpu.median, lo: r.cpu.lo, hi: r.cpu.hi }])) }))
