// The cost benchmark: N slow requests waiting at once over N raw keep-alive connections held by a client
// process (bench/cost-client.js), against one server process (bench/cost-server.js) per N. Per N: a heap
// round, a warm-up round, then `rounds` rounds; each round runs every header set, and for each the three
// modes (no 102, the hand-written loop, the plugin) one after another on the same sockets, in an order
// that turns by one from set to set and round to round.
import { fileURLToPath } from 'node:url'
import { Child, median, sleep } from './common.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))

const BROWSER = [
  'Connection: keep-alive',
  'sec-ch-ua: "Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile: ?0',
  'sec-ch-ua-platform: "Linux"',
  'Upgrade-Insecure-Requests: 1',
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8',
  'Sec-Fetch-Site: none',
  'Sec-Fetch-Mode: navigate',
  'Sec-Fetch-User: ?1',
  'Sec-Fetch-Dest: document',
  'Accept-Encoding: gzip, deflate, br, zstd',
  'Accept-Language: en-US,en;q=0.9',
  'Cookie: session=9f8e7d6c5b4a39281706; theme=dark'
]
/**
 * The header sets of real traffic, after `Host`. `proxied`: a browser's request as nginx passes it with
 * the recipe most guides give (`proxy_set_header` Host, X-Real-IP, X-Forwarded-For, X-Forwarded-Proto;
 * `Connection ""` for upstream keepalive); default options give such a request no 102, so the plugin's
 * route for it declares the path (`behind: 'probed'`).
 */
export const HEADER_SETS = {
  bare: [],
  curl: ['User-Agent: curl/8.5.0', 'Accept: */*'],
  browser: BROWSER,
  proxied: ['X-Real-IP: 203.0.113.7', 'X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: https', ...BROWSER.slice(1)]
}
export const MODES = ['plain', 'loop', 'plugin']
const HEAP_ROUNDS = 3
const path = (mode, set) => mode === 'plugin' && set === 'proxied' ? '/proxied' : `/${mode}`

export async function runCost ({ ns, sets: setsOf = () => Object.keys(HEADER_SETS), threshold, interval, sleep: sleepMs, rounds, warmupN = 0, node, log = console.error }) {
  const results = []
  for (const n of ns) {
    const t = { threshold: threshold(n), interval: interval(n), sleep: sleepMs(n) }
    const sets = setsOf(n)
    const expected = Math.floor((t.sleep - t.threshold) / t.interval) + 1
    const server = new Child(here('./cost-server.js'), [JSON.stringify(t)], ['--expose-gc'], { node })
    const client = new Child(here('./cost-client.js'))
    const phase = async (name, kind, set, count = n) => {
      await sleep(kind === 'heap' ? 50 : 200)
      server.send({ cmd: 'phase', name, kind, n: count })
      await server.next('ready')
      const timing = kind === 'timing'
      client.send({ cmd: 'send', path: timing ? path(name, set) : `/${name}-hold`, headers: HEADER_SETS[set].map((line) => line + '\r\n').join(''), ...t, expected: timing ? expected : 0, timeout: t.sleep + 60_000 })
      const [{ metrics }, result] = await Promise.all([server.next('metrics', t.sleep + 60_000), client.next('result', t.sleep + 90_000)])
      return { ...metrics, ...result }
    }
    const connect = async (count) => {
      client.send({ cmd: 'connect', port, n: count })
      const connected = await client.next('connected')
      if (connected.error) throw new Error(`N=${n}: connecting failed: ${connected.error}`)
    }
    let port
    try {
      port = (await server.next('listening')).port
      await connect(n)
      const row = { n, ...t, expected, heap: {}, timing: {} }
      // Heap: one round not counted (a route's first requests leave compiled code and caches behind), then
      // HEAP_ROUNDS: per round, each mode's bytes per waiting request above /plain's; the median of those.
      const heap = { loop: [], plugin: [] }
      for (let r = 0; r <= HEAP_ROUNDS; r++) {
        const f = {}
        for (const mode of MODES) f[mode] = (await phase(mode, 'heap', 'bare')).heapPerRequest
        if (r > 0) for (const mode of ['loop', 'plugin']) heap[mode].push(f[mode] - f.plain)
      }
      row.heap = { loop: median(heap.loop), plugin: median(heap.plugin), rounds: heap }
      log(`  cost N=${n} heap B per waiting request above /plain: ${['loop', 'plugin'].map((m) => `${m} ${heap[m].map((b) => b.toFixed(0)).join(', ')}`).join('; ')}`)
      // Warm-up, not counted: every route once with the richest headers it serves, at `warmupN` requests
      // at least (on connections opened for it), so that no counted phase pays for compiling its path.
      const warm = Math.max(n, warmupN)
      if (warm > n) await connect(warm - n)
      for (const [mode, set] of [['plain', 'browser'], ['loop', 'browser'], ['plugin', 'browser'], ['plugin', 'proxied']]) {
        log(`  cost N=${n} warm-up ${mode} ${set}: ${summary(await phase(mode, 'timing', set, warm))}`)
      }
      if (warm > n) {
        client.send({ cmd: 'trim', n })
        await client.next('trimmed')
      }
      for (const set of sets) row.timing[set] = Object.fromEntries(MODES.map((m) => [m, []]))
      for (let r = 0; r < rounds(n); r++) {
        let turn = r
        for (const set of sets) {
          for (let i = 0; i < MODES.length; i++) {
            const mode = MODES[(i + turn) % MODES.length]
            const f = await phase(mode, 'timing', set)
            row.timing[set][mode].push(f)
            log(`  cost N=${n} round ${r + 1} ${set} ${mode}: ${summary(f)}`)
          }
          turn++
        }
      }
      results.push(row)
    } finally {
      client.send({ cmd: 'exit' })
      server.send({ cmd: 'exit' })
      await Promise.all([client.stop(), server.stop()])
    }
  }
  return results
}

function summary (f) {
  const d = (x, digits = 0) => Number.isFinite(x) ? x.toFixed(digits) : String(x)
  return `200s ${f.ok}/${f.n}, counts ok ${f.countOk}, ramp ${d(f.rampMs)} ms${f.overlap ? ' (overlap)' : ''}, CPU µs setup ${d(f.setupUs)} first ${d(f.firstUs)} ` +
    `teardown ${d(f.teardownUs)}, per later 102 ${d(f.per102Us, 2)} (${f.laters} later 102s), eld p99 ${d(f.eldP99, 1)} ms, late max ${d(f.lateMax)} ms`
}
