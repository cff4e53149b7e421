// The fast path's tie-breaker below the noise: user-space instructions per request under callgrind,
// which neighbours cannot move. For each route, the server (bench/fastpath-server.js, that route alone)
// runs under valgrind twice, serving `small` and then `large` requests from a raw keep-alive client in
// this process; the difference over `large - small` leaves out start-up and shut-down.
//   npm run build && node bench/callgrind.js [--routes=hooksclose,opted] [--small=2000] [--large=6000]
// FASTPATH_SERVER=<path from bench/> runs another copy of the server (one importing an older build: a
// before/after count).
import { readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { Child } from './common.js'

const arg = (name, value) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? value
const routes = arg('routes', 'none,hooksclose,registered,opted').split(',')
const small = Number(arg('small', 2000))
const large = Number(arg('large', 6000))
const server = fileURLToPath(new URL(process.env.FASTPATH_SERVER ?? './fastpath-server.js', import.meta.url))

/** `count` GETs of `path`, one at a time on each of 4 keep-alive connections. */
async function load (port, path, count) {
  let left = count
  await Promise.all(Array.from({ length: 4 }, () => new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const next = () => { if (left-- > 0) socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`); else { socket.end(); resolve() } }
    socket.setEncoding('latin1')
    socket.on('connect', next)
    socket.on('data', (chunk) => { for (let i = chunk.indexOf('world"}'); i >= 0; i = chunk.indexOf('world"}', i + 1)) next() })
    socket.on('error', reject)
  })))
}

async function instructions (route, count) {
  const out = `/tmp/callgrind.${process.pid}.${route}.${count}`
  const child = new Child(server, [route], [], { node: 'valgrind', prefix: ['-q', '--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath] })
  const { port } = await child.next('listening', 600_000)
  await load(port, `/${route}`, count)
  child.send({ cmd: 'exit' })
  await new Promise((resolve) => child.proc.on('exit', resolve))
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'))[1])
  rmSync(out)
  return total
}

console.log(`| route | instructions per request (${small} → ${large} requests) |\n|---|---|`)
for (const route of routes) {
  const a = await instructions(route, small)
  const b = await instructions(route, large)
  console.log(`| /${route} | ${((b - a) / (large - small) / 1000).toFixed(2)}k |`)
}
