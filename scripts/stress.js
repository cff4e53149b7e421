#!/usr/bin/env node
// npm run stress: the randomized stress and fault test (test/stress/engine.js) against the built plugin.
//   node --expose-gc scripts/stress.js [--seed N] [--requests N] [--concurrency N] [--max-seconds N] [--json] [--without-plugin]
// The seed is printed; the same --seed replays the same traffic (the machine's timing differs, of
// course). Exits 1 on any violation.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'

if (typeof globalThis.gc !== 'function') {
  // The heap check needs a real GC: run again with --expose-gc.
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.argv.slice(1)], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}
if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('dist/index.js is missing: run `npm run build` first')
  process.exit(1)
}

const DEFAULT_SEED = 20_261_122
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(DEFAULT_SEED) },
    requests: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '64' },
    'max-seconds': { type: 'string', default: '240' },
    json: { type: 'boolean', default: false },
    // The same traffic against a stand-in that sends no 102 at all: a baseline for the heap and
    // resource checks, to tell the plugin's costs from the harness's.
    'without-plugin': { type: 'boolean', default: false }
  }
})
const seed = Number(values.seed) >>> 0
const requests = Number(values.requests)
const concurrency = Number(values.concurrency)
const maxSeconds = Number(values['max-seconds'])

const { default: fp } = await import('fastify-plugin')
const processing = values['without-plugin']
  ? fp(async (app) => { app.decorateReply('processing', () => false) })
  : (await import('../dist/index.js')).default
const { stress, THRESHOLD, INTERVAL, LIMIT } = await import('../test/stress/engine.js')

if (!values.json) {
  console.log(`stress: seed ${seed} (replay: npm run stress -- --seed ${seed}), ${requests} requests, ${concurrency} connections at a time, ` +
    `at most ${maxSeconds} s; plugin threshold ${THRESHOLD} ms, interval ${INTERVAL} ms, limit ${LIMIT}`)
}
const report = await stress({ processing, seed, requests, concurrency, maxSeconds })
const summary = {
  seed,
  requests: report.requests,
  sessions: report.sessions,
  finals: report.finals,
  aborted: report.aborted,
  interims: report.interims,
  http10: report.http10,
  pipelined: report.pipelined,
  uploads: report.uploads,
  heads: report.heads,
  byRoute: report.byRoute,
  violations: report.violationCount,
  violationsByKind: report.violations,
  examples: report.examples,
  truncated: report.truncated,
  resourcesLeft: report.resourcesLeft,
  heapBeforeMB: Number(report.heapBeforeMB.toFixed(1)),
  heapAfterMB: Number(report.heapAfterMB.toFixed(1)),
  runSeconds: Number(report.runSeconds.toFixed(1)),
  wallSeconds: Number(report.wallSeconds.toFixed(1))
}
if (values.json) {
  console.log(JSON.stringify(summary))
} else {
  console.log(`requests ${summary.requests} (sessions ${summary.sessions}; HTTP/1.0 ${summary.http10}, pipelined ${summary.pipelined}, ` +
    `uploads ${summary.uploads}, HEAD ${summary.heads}), final responses ${summary.finals}, aborted by the client ${summary.aborted}, 102s ${summary.interims}`)
  console.log(`by route: ${JSON.stringify(summary.byRoute)}`)
  console.log(`violations: ${summary.violations} ${JSON.stringify(summary.violationsByKind)}`)
  for (const e of summary.examples) console.log(`  ${e}`)
  console.log(`resources left after close: ${summary.resourcesLeft.length === 0 ? 'none' : summary.resourcesLeft.join(', ')}; ` +
    `heap ${summary.heapBeforeMB} MB before, ${summary.heapAfterMB} MB after close + GC`)
  console.log(`time: ${summary.runSeconds} s of traffic, ${summary.wallSeconds} s in all${summary.truncated ? ' (TRUNCATED by --max-seconds)' : ''}`)
}
process.exitCode = summary.violations === 0 && !summary.truncated ? 0 : 1
