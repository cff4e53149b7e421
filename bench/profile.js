// `node bench/profile.js`: CPU profiles (node --cpu-prof) of the two hot paths, summarised as markdown:
//   route  the fast route under autocannon, without the plugin and opted in (the emitter armed and
//          disarmed on every request); --variants=baseline,opted,plain,naive to choose
//   scale  10,000 slow requests receiving their 102s (the tick), as in the scale benchmark
// Options: --only=route|scale, --keep (keep the .cpuprofile files, in a temporary directory, printed).
import autocannon from 'autocannon'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child } from './common.js'

const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const args = process.argv.slice(2)
const only = args.find((a) => a.startsWith('--only='))?.split('=')[1]
const keep = args.includes('--keep')

const N = 10_000
const SLEEP = 6000

function category (frame) {
  const { functionName: name, url } = frame
  if (name === '(garbage collector)') return 'GC'
  if (name === '(idle)') return 'idle'
  if (name === '(program)') return 'program (native, outside JS)'
  if (url.includes('/dist/')) return 'plugin (dist/)'
  if (url.includes('/bench/')) return 'bench harness'
  if (url.includes('node_modules/')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
    return m[1] === 'fastify' ? 'fastify' : `dependency ${m[1]}`
  }
  if (url.startsWith('node:internal/timers') || url === 'node:timers') return 'node timers'
  if (url.startsWith('node:_http') || url === 'node:http') return 'node http'
  if (url.startsWith('node:net') || url.includes('stream_base') || url.includes('streams/')) return 'node net/streams'
  if (url === 'node:events' || url.includes('/events/')) return 'node events'
  if (url.startsWith('node:')) return 'node other'
  return 'native (called from JS)'
}

/**
 * Self time per function and per category; `window` ([from, to], ms on CLOCK_MONOTONIC, which is also
 * V8's profiler clock on Linux) keeps only the samples taken in it.
 */
function summarise (file, title, window = null, requests = 0) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const hits = new Map()
  let t = profile.startTime
  let kept = 0
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]
    if (window !== null && (t / 1000 < window[0] || t / 1000 > window[1])) continue
    hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + 1)
    kept++
  }
  const total = window === null ? profile.endTime - profile.startTime : (window[1] - window[0]) * 1000
  const perSample = total / kept
  const selfMs = (node) => ((hits.get(node.id) ?? 0) * perSample) / 1000
  const self = new Map()
  const categories = new Map()
  let busy = 0
  for (const node of profile.nodes) {
    const ms = selfMs(node)
    if (ms === 0) continue
    const cat = category(node.callFrame)
    categories.set(cat, (categories.get(cat) ?? 0) + ms)
    if (cat === 'idle') continue
    busy += ms
    const { functionName, url, lineNumber } = node.callFrame
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules\/|dist\/|bench\/)/, '$1')}:${lineNumber + 1}`
    const key = `${functionName || '(anonymous)'}${where}`
    self.set(key, { ms: (self.get(key)?.ms ?? 0) + ms, cat })
  }
  // Inclusive time of the plugin's tick and onRequest/onSend hooks. A hook's done() runs the rest of
  // the request (Fastify's continuation) inside it: that subtree is not the plugin's, so the walk does
  // not enter fastify's frames.
  const inclusive = (node) => selfMs(node) + (node.children ?? []).reduce((s, id) => {
    const child = byId.get(id)
    return child.callFrame.url.includes('node_modules/fastify/') ? s : s + inclusive(child)
  }, 0)
  const roots = new Map()
  for (const node of profile.nodes) {
    const f = node.callFrame
    if (!f.url.includes('/dist/lib/emitter.js')) continue
    if (!['tick', 'onRequest', 'onSend'].includes(f.functionName)) continue
    roots.set(f.functionName, (roots.get(f.functionName) ?? 0) + inclusive(node))
  }
  const lines = [`#### ${title}`, '', `Profile: ${(total / 1e6).toFixed(1)} s, busy (not idle) ${(busy / 1000).toFixed(2)} s.`, '']
  const perRequest = requests > 0 ? ' µs/request |' : ''
  lines.push(`| category | self ms | share of busy |${perRequest}`, `|---|---|---|${requests > 0 ? '---|' : ''}`)
  for (const [cat, ms] of [...categories].filter(([c]) => c !== 'idle').sort((a, b) => b[1] - a[1])) {
    const us = requests > 0 ? ` ${((ms * 1000) / requests).toFixed(2)} |` : ''
    lines.push(`| ${cat} | ${ms.toFixed(0)} | ${((100 * ms) / busy).toFixed(1)}% |${us}`)
  }
  lines.push('', '| function (self time) | category | self ms | share of busy |', '|---|---|---|---|')
  for (const [key, { ms, cat }] of [...self].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    lines.push(`| \`${key}\` | ${cat} | ${ms.toFixed(0)} | ${((100 * ms) / busy).toFixed(1)}% |`)
  }
  const closeListener = profile.nodes.filter((n) => n.callFrame.url.includes('/dist/lib/emitter.js') && n.callFrame.functionName === 'finish')
  if (closeListener.length > 0) roots.set('finish (on close)', closeListener.reduce((s, n) => s + inclusive(n), 0))
  if (roots.size > 0) {
    lines.push('', 'Inclusive time of the plugin\'s functions (with what they call, Fastify\'s continuation excluded): ' +
      [...roots].map(([name, ms]) => `\`${name}\` ${ms.toFixed(0)} ms (${((100 * ms) / busy).toFixed(1)}%)`).join(', ') + '.')
  }
  return lines.join('\n')
}

function profileOf (dir) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  if (files.length !== 1) throw new Error(`expected one profile in ${dir}, found ${files.length}`)
  return join(dir, files[0])
}

async function route (variant) {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-processing-prof-'))
  const server = new Child(here('./throughput-server.js'), [variant], ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  const { port } = await server.next('listening')
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 100, pipelining: 10, duration: 6 })
  await server.stop()
  const text = summarise(profileOf(dir), `Route answering at once, ${variant}: ${result.requests.total} requests in 6 s`, null, result.requests.total)
  return { dir, text }
}

async function scale () {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-processing-prof-'))
  const params = JSON.stringify({ threshold: 1000, interval: 1000, sleep: SLEEP })
  const server = new Child(here('./scale-server.js'), [params], ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${dir}`])
  const client = new Child(here('./scale-client.js'))
  const { port } = await server.next('listening')
  client.send({ cmd: 'connect', port, n: N })
  await client.next('connected')
  server.send({ cmd: 'phase', name: 'plugin', kind: 'timing', n: N })
  await server.next('ready')
  client.send({ cmd: 'send', path: '/plugin', threshold: 1000, interval: 1000, expected: 5, lastK: 4, timeout: SLEEP + 60_000 })
  const [metrics, result] = await Promise.all([server.next('metrics', SLEEP + 60_000), client.next('result', SLEEP + 60_000)])
  const { windowStart, windowEnd, sentInWindow, cpuWindowMs } = metrics.metrics
  client.send({ cmd: 'exit' })
  server.send({ cmd: 'exit' })
  await Promise.all([client.stop(), new Promise((resolve) => server.exited ? resolve() : server.proc.once('exit', resolve))])
  const sent = Object.entries(result.counts).reduce((s, [k, v]) => s + k * v, 0)
  const rate = sentInWindow / (cpuWindowMs / 1000)
  const text = summarise(profileOf(dir), `${N} slow requests (${SLEEP / 1000} s each, a 102 every second; ${sent} 102s in all), ` +
    `steady state only: ${((windowEnd - windowStart) / 1000).toFixed(1)} s while about ${rate.toFixed(0)} 102s/s flow`, [windowStart, windowEnd])
  return { dir, text }
}

const parts = []
const variants = args.find((a) => a.startsWith('--variants='))?.split('=')[1].split(',') ?? ['baseline', 'opted']
if (only === undefined || only === 'route') for (const variant of variants) parts.push(await route(variant))
if (only === undefined || only === 'scale') parts.push(await scale())
for (const { dir, text } of parts) {
  console.log(text + '\n')
  if (keep) console.error(`profile kept in ${dir}`)
  else rmSync(dir, { recursive: true, force: true })
}
