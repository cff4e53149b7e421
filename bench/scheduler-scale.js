#!/usr/bin/env node
// The shared scheduler alone (lib/scheduler.ts), no sockets and no emitter: N slots due in the same
// millisecond, each fired three times (one wave at the threshold, two at the interval), with a fire that
// only re-adds the slot. It shows whether adding, firing and re-adding stay linear in N, and how long one
// slice holds the loop (the target is that none blocks it for the whole wave).
//   node bench/scheduler-scale.js [N ...]        default: 10000 100000 1000000
import { Scheduler, Slot } from '../dist/lib/scheduler.js'

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)
const keepAlive = setInterval(() => {}, 1000) // the scheduler's own timer is unref()'d
const rows = []
for (const n of sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000]) {
  let fired = 0
  let lastFire = 0
  const threshold = 200
  const interval = 500
  const result = await new Promise((resolve) => {
    const scheduler = new Scheduler((slot) => {
      fired++
      slot.waves = (slot.waves ?? 0) + 1
      if (slot.waves < 3) scheduler.add(slot, interval, slot.due + interval)
      if (fired === 3 * n) { lastFire = performance.now(); resolve(scheduler) }
    })
    const started = performance.now()
    const due = started + threshold
    for (let i = 0; i < n; i++) scheduler.add(new Slot(), threshold, due)
    rows.push({ n, addMs: performance.now() - started, firstDue: due })
  })
  const row = rows.at(-1)
  // The last wave is due at threshold + 2 intervals: what it took past that is the time to fire it.
  row.lastWaveMs = lastFire - (row.firstDue + 2 * interval)
  row.longestSliceMs = result.longestSlice
  row.left = result.size
}
clearInterval(keepAlive)
console.log('| N | add N slots | last wave fired within | longest slice | left in the schedule |\n|---|---|---|---|---|')
for (const r of rows) console.log(`| ${r.n.toLocaleString('en')} | ${r.addMs.toFixed(0)} ms (${(1000 * r.addMs / r.n).toFixed(2)} µs each) | ${r.lastWaveMs.toFixed(0)} ms (${(1000 * r.lastWaveMs / r.n).toFixed(2)} µs each) | ${r.longestSliceMs.toFixed(1)} ms | ${r.left} |`)
console.log(JSON.stringify({ node: process.version, rows: rows.map(({ firstDue, ...r }) => r) }))
