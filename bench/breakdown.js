// `node bench/breakdown.js [pairs] [seconds] [variant,...] [rounds]`: where the overhead comes from. The same alternating
// pairs as the throughput benchmark, against servers that each do one piece of the plugin's work by
// hand: a reply decorator with a value (what `plain` does per request), route-level onRequest + onSend
// hooks that do nothing, then in them a setTimeout(...).unref() cleared in onSend, a res.once('close')
// closure, a shared function as a 'close' or a 'finish' listener, all of the plugin's pieces with a
// state object, and the plugin itself.
import { runThroughput, VARIANTS, COMPARISONS } from './throughput.js'

const pairs = Number(process.argv[2] ?? 7)
const duration = Number(process.argv[3] ?? 1)
const parts = process.argv[4]?.split(',') ?? ['decorate', 'plain', 'parts:hooks', 'parts:timer', 'parts:close', 'parts:closeShared', 'parts:finishShared', 'parts:state+timer+close', 'opted']
VARIANTS.splice(0, VARIANTS.length, 'baseline', ...parts)
COMPARISONS.splice(0, COMPARISONS.length, ...parts.map((p) => ['baseline', p]))
const rows = await runThroughput({ rounds: Number(process.argv[5] ?? 2), pairs, duration, warmup: 1 })
console.log('| route does | req/s ratio to baseline | CPU/request ratio | CPU µs/request (baseline → this) |')
console.log('|---|---|---|---|')
for (const r of rows) {
  console.log(`| ${r.b} | ${r.ratio.toFixed(3)} | ${r.cpuRatio.toFixed(3)} | ${r.aCpuUs.toFixed(2)} → ${r.bCpuUs.toFixed(2)} |`)
}
