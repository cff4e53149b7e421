// The server of bench/callgrind-waves.js: slow routes whose requests wait until the parent releases
// them, so that a phase lasts as many waves of 102s as the parent counts, however slowly valgrind runs.
//   /plugin          this plugin (dist/), in its own encapsulated scope
//   /reference       the hand-written reference (bench/reference.js)
//   /reference-twin  the same again, with its own closures: the A/A control
// argv[2]: JSON {threshold, interval}. IPC: {cmd: 'gc'} -> {type: 'gc'} after a minor GC (--expose-gc),
// {cmd: 'release'} -> {type: 'released'}: every waiting handler answers.
import Fastify from 'fastify'
import processing from '../dist/index.js'
import { handWritten } from './reference.js'

const { threshold, interval } = JSON.parse(process.argv[2])
let release
let released = new Promise((resolve) => { release = resolve })
async function handler () {
  await released
  return 'done'
}

const app = Fastify({ logger: false })
app.get('/reference', { onRequest: handWritten(threshold, interval) }, handler)
app.get('/reference-twin', { onRequest: handWritten(threshold, interval) }, handler)
await app.register(async (scope) => {
  await scope.register(processing, { threshold, interval })
  scope.get('/plugin', { config: { processing: true } }, handler)
})

process.on('message', (msg) => {
  if (msg.cmd === 'gc') {
    globalThis.gc?.({ type: 'minor' })
    process.send({ type: 'gc' })
  } else if (msg.cmd === 'release') {
    release()
    released = new Promise((resolve) => { release = resolve })
    process.send({ type: 'released' })
  } else if (msg.cmd === 'exit') {
    process.exit(0)
  }
})

await app.listen({ host: '127.0.0.1', port: 0 })
process.send({ type: 'listening', port: app.server.address().port })
