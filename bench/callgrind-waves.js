// CPU per 102 below the noise: user-space instructions per 102 under callgrind, the plugin beside the
// hand-written reference and its twin (the A/A control), in ONE server process (bench/waves-server.js).
// Section 2 measures process CPU over one-second windows, where at N = 100 a window holds about 3 ms of
// work and a copy of the reference measures 0.5–1.9× the reference: this counts what each path executes.
// The kernel's side of a write is not counted (--collect-systime=no): the three write the same bytes to
// the same kind of socket.
//
// Per N, uninstrumented: `warmup` phases of every route at max(N, 1,000) requests, so that each path is
// compiled before anything is counted. Then `rounds` rounds, every route once per round in a seeded
// order: N requests on N keep-alive connections; once every one has had two 102s (one wave after its
// first: the steady state), a minor GC, counters zeroed, `waves` more waves, a dump; then the requests
// are released. Each dump falls between two waves, and the client checks that each request got exactly
// `waves` 102s between the two: instructions per 102 = the dump's total / (N × waves). The count holds
// everything the process did meanwhile: timer wake-ups, the plugin's scheduler, Node's timers, the
// writes, garbage collection, and compiling, if any was left.
// The threshold is 1 s and the interval 1 s at N = 100, 4 ms a request above: a wave under callgrind takes
// about a millisecond a request, and each dump must fall between two waves.
//   npm run build && node bench/callgrind-waves.js [--ns=100,1000] [--rounds=5] [--waves=N] [--warmup=2]
// KEEP=1 keeps the dumps (/tmp/callgrind.<pid>.<n>, numbered in the order taken) for callgrind_annotate.
import { once } from 'node:events'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { median, sleep } from './common.js'
import { callgrindChild, shuffler } from './valgrind.js'

const arg = (name, value) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? value
const ns = arg('ns', '100,1000').split(',').map(Number)
const [rounds, warmup] = [arg('rounds', 5), arg('warmup', 2)].map(Number)
// Waves counted per dump: at least 1,000 102s in each, and three waves.
const wavesFor = (n) => Number(arg('waves', Math.max(3, Math.ceil(1000 / n))))
const THRESHOLD = 1000
const intervalFor = (n) => Math.max(1000, 4 * n)
const ROUTES = ['plugin', 'reference', 'reference-twin']
const WARM_N = 1000
// A wave is over once every request has its 102 and none has come for this long: the wave's own tail is
// done by then, and the next wave is most of an interval away.
const SETTLE = 100
let lastInterim = 0
const shuffle = shuffler(19)

/** N keep-alive connections that count the 102s and the final responses they read. */
async function connectAll (port, n) {
  const conns = []
  for (let i = 0; i < n; i++) {
    const socket = net.connect(port, '127.0.0.1')
    socket.setEncoding('latin1')
    const conn = { socket, interim: 0, done: false, buf: '' }
    socket.on('data', (chunk) => {
      conn.buf += chunk
      for (let end = conn.buf.indexOf('\r\n\r\n'); end >= 0; end = conn.buf.indexOf('\r\n\r\n')) {
        const status = conn.buf.slice(9, 12)
        if (status === '102') {
          conn.interim++
          lastInterim = Date.now()
          conn.buf = conn.buf.slice(end + 4)
        } else {
          // The final response: 'done' as its body, no more on this request.
          const length = Number(/content-length: *(\d+)/i.exec(conn.buf.slice(0, end))?.[1] ?? 0)
          if (conn.buf.length < end + 4 + length) return
          conn.buf = conn.buf.slice(end + 4 + length)
          conn.done = true
        }
      }
    })
    socket.on('error', (error) => { throw error })
    conns.push(conn)
    await once(socket, 'connect')
  }
  return conns
}

/** Resolves once `test` holds, polling: the client is not under valgrind, the server is. */
async function until (test, what, timeoutMs = 600_000) {
  const start = Date.now()
  while (!test()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

async function phase (grind, conns, route, count, waves) {
  for (const conn of conns) {
    conn.interim = 0
    conn.done = false
    conn.socket.write(`GET /${route} HTTP/1.1\r\nHost: x\r\n\r\n`)
  }
  const all = (k) => () => Date.now() - lastInterim >= SETTLE && conns.every((c) => c.interim >= k)
  await until(all(2), `${route}: every request's second 102`)
  let result = null
  if (count) {
    grind.child.send({ cmd: 'gc' })
    await grind.child.next('gc')
    const before = conns.map((c) => c.interim)
    grind.zero()
    await until(all(before.reduce((a, b) => Math.max(a, b)) + waves), `${route}: ${waves} more waves`)
    const total = grind.dump()
    const sent = conns.reduce((sum, c, i) => sum + c.interim - before[i], 0)
    if (sent !== conns.length * waves) throw new Error(`${route}: ${sent} 102s inside the count, not ${conns.length} × ${waves}: a dump fell inside a wave`)
    result = total / sent
  } else {
    await until(all(2 + waves), `${route}: ${waves} more waves`)
  }
  grind.child.send({ cmd: 'release' })
  await until(() => conns.every((c) => c.done), `${route}: every final response`)
  return result
}

const server = fileURLToPath(new URL('./waves-server.js', import.meta.url))
const results = []
for (const n of ns) {
  const grind = callgrindChild(server, [JSON.stringify({ threshold: THRESHOLD, interval: intervalFor(n) })], { keep: Boolean(process.env.KEEP) })
  const counts = Object.fromEntries(ROUTES.map((r) => [r, []]))
  let conns = []
  try {
    const { port } = await grind.child.next('listening', 600_000)
    conns = await connectAll(port, Math.max(n, WARM_N))
    for (let i = 0; i < warmup; i++) for (const route of ROUTES) await phase(grind, conns, route, false, 3)
    for (const conn of conns.splice(n)) conn.socket.destroy()
    grind.instrument()
    for (let round = 0; round < rounds; round++) {
      for (const route of shuffle(ROUTES)) counts[route].push(await phase(grind, conns, route, true, wavesFor(n)))
      console.error(`N=${n} round ${round + 1}/${rounds}: ${ROUTES.map((r) => `${r} ${counts[r].at(-1).toFixed(0)}`).join(', ')}`)
    }
  } catch (error) {
    console.error(grind.log())
    throw error
  } finally {
    for (const conn of conns) conn.socket.destroy()
    await grind.stop()
  }
  results.push({ n, counts, flags: grind.flags })
}

const k = (v) => `${(v / 1000).toFixed(2)}k`
const range = (values) => `${k(median(values))} (${k(Math.min(...values))}–${k(Math.max(...values))})`
const ratio = (a, b) => {
  const per = a.map((v, i) => v / b[i])
  return `${median(per).toFixed(3)} (${Math.min(...per).toFixed(3)}–${Math.max(...per).toFixed(3)})`
}
console.log(`Command: node bench/callgrind-waves.js --ns=${ns.join(',')} --rounds=${rounds} --warmup=${warmup}; ` +
  `Node ${process.version} ${results[0].flags.join(' ')}\n`)
console.log('| N | interval ms | waves per dump | instructions per 102: plugin | reference | twin | plugin ÷ reference | A/A: twin ÷ reference |\n|---|---|---|---|---|---|---|---|')
for (const { n, counts: c } of results) {
  const met = median(c.plugin.map((v, i) => v / c.reference[i])) <= 1
  console.log(`| ${n.toLocaleString('en')} | ${intervalFor(n)} | ${wavesFor(n)} | ${range(c.plugin)} | ${range(c.reference)} | ${range(c['reference-twin'])} | ` +
    `${ratio(c.plugin, c.reference)} ${met ? '✅' : '❌'} | ${ratio(c['reference-twin'], c.reference)} |`)
}
