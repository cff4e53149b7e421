// The probe of the scale benchmark, in its own process: other traffic on the same server. A few
// keep-alive connections send GET /fast back to back (closed loop) within a window given on the
// CLOCK_MONOTONIC clock shared by every process here, and report the latency of each request.
//   {cmd: 'run', port, start, end} -> {type: 'probed', n, p50, p99, max}
import http from 'node:http'
import { now, percentile, sleep } from './common.js'

const CONNECTIONS = 4
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })

function get (port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/fast', agent }, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('error', reject)
  })
}

async function loop (port, end, latencies) {
  while (now() < end) {
    const t = now()
    await get(port)
    latencies.push(now() - t)
  }
}

process.on('message', async (msg) => {
  if (msg.cmd === 'run') {
    await sleep(Math.max(0, msg.start - now()))
    const latencies = []
    try {
      await Promise.all(Array.from({ length: CONNECTIONS }, () => loop(msg.port, msg.end, latencies)))
      process.send({ type: 'probed', n: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) })
    } catch (err) {
      process.send({ type: 'probed', n: latencies.length, error: err.code ?? err.message })
    }
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})
