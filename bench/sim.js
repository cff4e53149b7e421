// The socket-free simulation: for each N, bench/sim-worker.js in a fresh process (its own heap, so one
// level's garbage is not billed to the next), driven by the emitter's real scheduler.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const worker = fileURLToPath(new URL('./sim-worker.js', import.meta.url))

function one (node, params) {
  return new Promise((resolve, reject) => {
    execFile(node, ['--expose-gc', '--max-old-space-size=6144', worker, JSON.stringify(params)], { maxBuffer: 1 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`sim N=${params.n}: ${err.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)))
    })
  })
}

export async function runSim ({ ns, threshold, interval, waves, cpuWaves, node = process.execPath, log = console.error }) {
  const rows = []
  for (const n of ns) {
    let row
    try {
      row = await one(node, { n, threshold, interval, waves, cpuWaves })
    } catch (err) {
      // One level that fails is a row that says so, not a lost run.
      const error = err.message.split('\n').find((l) => l.startsWith('Error:')) ?? err.message
      log(`  sim N=${n}: ${error}`)
      rows.push({ n, error })
      continue
    }
    log(`  sim N=${n} (${row.node}): heap ${row.heapPerRequest.toFixed(0)} B/request, cpu/102 ${row.cpuPer102Us.toFixed(3)} us (floor ${row.floorUs.toFixed(3)}), ` +
      `longest slice ${row.longestSliceMs.toFixed(1)} ms, eld p99/max ${row.eldP99.toFixed(1)}/${row.eldMax.toFixed(1)} ms, ` +
      `late p99/max ${row.lateP99.toFixed(1)}/${row.lateMax.toFixed(1)} ms, gap p99 ${row.gapP99.toFixed(1)} ms, ${row.complete}/${n} complete, start ${row.startMs.toFixed(0)} ms`)
    rows.push(row)
  }
  return rows
}
