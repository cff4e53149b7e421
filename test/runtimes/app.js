// One app process for test/runtimes/: the built plugin (dist/) on the real Fastify, run by whichever runtime
// started this file (Node, Bun or Deno), serving every scenario the Node test process checks from outside.
// It prints one JSON line with its ports; when its stdin ends it closes every server, waits three intervals,
// prints one JSON line saying what the plugin did after close(), and is left to exit on its own: a timer or
// socket left behind would keep it alive, and the test would see it.
import { subscribe } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import processing from '../../dist/index.js'

// 102s at 200, 400 and 600 ms, then the limit; threshold and interval far enough apart that a busy machine
// cannot blur them, and a 1 s handler ends well after the last.
const SCHEDULE = { threshold: 200, interval: 200, limit: 3 }

const runtime = globalThis.Deno !== undefined
  ? `Deno ${globalThis.Deno.version.deno}`
  : process.versions.bun !== undefined ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`

let sent = 0
subscribe('fastify-processing:sent', () => { sent++ })

function routes (app) {
  app.get('/ping', { config: { processing: false } }, async () => 'pong')
  app.get('/slow', { config: { processing: true } }, async (request) => {
    const ms = Number(request.query.ms ?? 1000)
    await sleep(ms)
    return `slow ${ms}`
  })
  // Progress reports from the handler, on a route that did not opt in.
  app.get('/progress', async (_request, reply) => {
    const written = []
    for (const step of ['1/2', '2/2']) {
      await sleep(150)
      written.push(reply.processing({ progress: step }))
    }
    return { written, count: reply.processingSent }
  })
  // The final headers go out at 300 ms, after one 102 and with two more due while the body streams.
  app.get('/streamed', { config: { processing: true } }, async (_request, reply) => {
    await sleep(300)
    const body = new Readable({ read () {} })
    body.push('headers sent; ')
    setTimeout(() => {
      body.push(`reply.processing() after them: ${reply.processing()}`)
      body.push(null)
    }, 700)
    reply.type('text/plain')
    return body
  })
}

async function start (options, serverOptions = {}) {
  const app = Fastify(serverOptions)
  await app.register(processing, options)
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

const tls = {
  key: readFileSync(new URL('../fixtures/key.pem', import.meta.url)),
  cert: readFileSync(new URL('../fixtures/cert.pem', import.meta.url))
}
const servers = {
  // Default options but the schedule: the proxy-sign gate and the HTTP/1.0 rule as users get them.
  main: await start(SCHEDULE),
  expect: await start({ ...SCHEDULE, requireExpect: true })
}
// HTTP/2 is asked for separately: where the runtime cannot serve it, that is a finding, not a crash.
const http2 = {}
for (const [name, serverOptions] of [['h2c', { http2: true }], ['h2', { http2: true, https: tls }]]) {
  try {
    servers[name] = await start(SCHEDULE, serverOptions)
  } catch (err) {
    http2[name] = `${err.code ?? err.name}: ${err.message}`
  }
}

const ports = Object.fromEntries(Object.entries(servers).map(([name, app]) => [name, app.server.address().port]))
console.log(JSON.stringify({ runtime, schedule: SCHEDULE, ports, http2 }))

process.stdin.resume()
process.stdin.on('end', async () => {
  const atClose = sent
  await Promise.all(Object.values(servers).map((app) => app.close()))
  const closed = sent
  await sleep(3 * SCHEDULE.interval)
  console.log(JSON.stringify({ closed: true, sentDuringClose: closed - atClose, sentAfterClose: sent - closed }))
  process.stdin.pause()
})
