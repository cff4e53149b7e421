// The fast path's tie-breaker below the noise: user-space instructions per request under callgrind,
// which neighbours cannot move. ONE server process (bench/fastpath-server.js) runs under valgrind with
// instrumentation off while every route is warmed up, interleaved, until the JIT has settled; then
// `rounds` rounds, each taking every route once in a seeded shuffled order: a minor GC in the server,
// counters zeroed, `batch` requests one at a time on one keep-alive connection, a dump. Instructions
// per request = the dump's total / batch. V8 runs --single-threaded, so no compiler or GC thread adds
// instructions at random moments. The GC is a minor one: it empties the young generation so every
// batch meets the same scavenges, where a full GC drops optimised code whose maps died and the JIT
// would compile again inside the counted batches. callgrind_control reaches the server through vgdb
// even while it waits in epoll.
//   npm run build && node bench/callgrind.js [--rounds=7] [--batch=400] [--warmup=10000] [--routes=...]
// FASTPATH_SERVER=<path from bench/> counts another copy of the server (one importing an older build:
// a before/after pair). KEEP=1 keeps the dumps (/tmp/callgrind.<pid>.<n>) for callgrind_annotate.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Child, median } from './common.js'

const arg = (name, value) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? value
const routes = arg('routes', 'none,none2,plainroute,registered,opted,floor,hooks,hooksclose').split(',')
const [rounds, batch, warmup] = [arg('rounds', 7), arg('batch', 400), arg('warmup', 10000)].map(Number)
const server = fileURLToPath(new URL(process.env.FASTPATH_SERVER ?? './fastpath-server.js', import.meta.url))
const out = `/tmp/callgrind.${process.pid}`
const valgrind = ['-n', '19', 'valgrind', '-q', '--tool=callgrind', '--instr-atstart=no', '--collect-systime=no',
  '--separate-threads=no', '--dump-line=no', `--log-file=${out}.log`, `--callgrind-out-file=${out}`, process.execPath]
const flags = ['--single-threaded', '--expose-gc', '--no-memory-reducer', '--random-seed=19']
const child = new Child(server, [routes.join(',')], flags, { node: 'nice', prefix: valgrind })
const control = (...args) => execFileSync('callgrind_control', [...args, String(child.proc.pid)], { stdio: 'pipe' })

/** A keep-alive connection that sends `count` GETs of `path`, each after the previous response. */
function connect (port) {
  const socket = net.connect(port, '127.0.0.1')
  socket.setEncoding('latin1')
  let pending = () => {}
  socket.on('error', (error) => { throw error })
  socket.on('data', (chunk) => { for (let i = chunk.indexOf('world"}'); i >= 0; i = chunk.indexOf('world"}', i + 1)) pending() })
  return {
    socket,
    send: (path, count) => new Promise((resolve) => {
      let left = count
      pending = () => { if (left-- > 0) socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`); else resolve() }
      pending()
    })
  }
}

/** Seeded shuffle (mulberry32): the same order of routes every run. */
let seed = 19
function shuffle (list) {
  const random = () => {
    let t = (seed = (seed + 0x6D2B79F5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const a = [...list]
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [a[i], a[j]] = [a[j], a[i]] }
  return a
}

const counts = Object.fromEntries(routes.map((r) => [r, []]))
try {
  const { port } = await child.next('listening', 600_000)
  const conn = connect(port)
  await new Promise((resolve) => conn.socket.once('connect', resolve))
  for (let i = 0; i < warmup / 50; i++) for (const route of routes) await conn.send(`/${route}`, 50)
  control('-i', 'on')
  let dumps = 0
  for (let round = 0; round < rounds; round++) {
    for (const route of shuffle(routes)) {
      child.send({ cmd: 'gc' })
      await child.next('gc')
      control('-z')
      await conn.send(`/${route}`, batch)
      control('-d')
      const file = `${out}.${++dumps}`
      counts[route].push(Number(/^totals: (\d+)/m.exec(readFileSync(file, 'utf8'))[1]) / batch)
      if (!process.env.KEEP) rmSync(file)
    }
    console.error(`round ${round + 1}/${rounds}: ${routes.map((r) => `${r} ${counts[r].at(-1).toFixed(0)}`).join(', ')}`)
  }
  conn.socket.end()
} finally {
  if (counts[routes[0]].length < rounds && existsSync(`${out}.log`)) console.error(readFileSync(`${out}.log`, 'utf8'))
  child.send({ cmd: 'exit' })
  await new Promise((resolve) => child.exited ? resolve() : child.proc.on('exit', resolve))
  for (const file of [out, `${out}.log`]) rmSync(file, { force: true })
}

const mid = (r) => median(counts[r] ?? [])
const k = (v) => `${(v / 1000).toFixed(2)}k`
const commit = execFileSync('git', ['-C', dirname(server), 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim()
console.log(`Command: node bench/callgrind.js --rounds=${rounds} --batch=${batch} --warmup=${warmup}` +
  `${process.env.FASTPATH_SERVER ? ` (FASTPATH_SERVER=${process.env.FASTPATH_SERVER})` : ''}; Node ${process.version}` +
  ` ${flags.join(' ')}; server at ${commit.slice(0, 80)}\n`)
console.log('| route | instructions per request, median (min–max over rounds) | ÷ /none |\n|---|---|---|')
for (const r of routes) {
  console.log(`| /${r} | ${k(mid(r))} (${k(Math.min(...counts[r]))}–${k(Math.max(...counts[r]))}) | ${(mid(r) / mid('none')).toFixed(4)} |`)
}
const ratios = [['none2', 'none'], ['registered', 'none'], ['registered', 'plainroute'], ['opted', 'hooksclose'], ['opted', 'floor'], ['opted', 'none'], ['hooks', 'none'], ['hooksclose', 'none'], ['naive', 'none']]
console.log('\n| ratio | median of medians | per-round (min–max) |\n|---|---|---|')
for (const [a, b] of ratios.filter(([a, b]) => counts[a] && counts[b])) {
  const per = counts[a].map((v, i) => v / counts[b][i])
  console.log(`| ${a} / ${b} | ${(mid(a) / mid(b)).toFixed(4)} | ${Math.min(...per).toFixed(4)}–${Math.max(...per).toFixed(4)} |`)
}
for (const [a, b] of [['opted', 'hooksclose'], ['opted', 'floor'], ['registered', 'none'], ['registered', 'plainroute']].filter(([a, b]) => counts[a] && counts[b])) {
  console.log(`\n${a} − ${b}: ${(mid(a) - mid(b)).toFixed(0)} instructions per request (${((mid(a) - mid(b)) / mid('none') * 100).toFixed(2)} % of /none)`)
}
