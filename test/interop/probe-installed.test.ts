// Proves: nginx as installed (HTTP/1.1 upstream and the usual headers, nothing else: proxy_read_timeout
// is its default 60 s) gets the right verdict from the command with its default flags, within 100 s, with
// a progress line at least every 5 s that says what it waits for.
// (A file of its own: it waits for nginx's minute while tap runs the other files.)
import t from 'tap'
import { needs } from './needs.js'
import { run, startNginx } from './peers.js'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { pluginOptions } from '../../dist/lib/options.js'
import { probeOptions, probeRoute } from '../../dist/lib/probe-endpoint.js'
import { agrees, optionsKeepFinal, TOKEN, verdict } from './verdicts.js'

const BIN = fileURLToPath(new URL('../../dist/bin/fastify-processing.js', import.meta.url))

t.test('nginx as installed, default flags: takes a 102 as final (held 60 s), within 100 s', async (t) => {
  if (!await needs(t, 'nginx')) return
  const start = (port: number) => startNginx(port, { readTimeout: null })
  const app = Fastify()
  app.route(probeRoute(probeOptions({ path: '/_probe', token: TOKEN })!, pluginOptions({}).defaults))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const proxy = await start((app.server.address() as AddressInfo).port)
  let res
  try {
    // As a user runs it: the table and the progress lines, no --json.
    res = await run(process.execPath, [BIN, 'probe', `${proxy.origin}/usual/_probe`, '--token', TOKEN], { timeout: 110_000 })
  } finally {
    await proxy.stop()
    await app.close()
  }
  t.ok(res.ms < 100_000, `a verdict in ${Math.round(res.ms / 1000)} s`)
  t.equal(res.code, 1, res.stderr)
  t.match(res.stdout, /\nverdict: takes a 102 as final, and held it back [56]\d s after the app answered \(a read timeout: nginx's proxy_read_timeout is 60 s by default\): do not send\noptions: \{ behind: 'nginx' \}\n$/)
  t.match(res.stdout, /held back +[56]\d\.\d s after the app answered \(it had sent 1; 1 reached the client\)\n/)
  const lines = res.stderr.trim().split('\n')
  const times = lines.map((line) => Number(/^\[(\d+) s\] waiting for /.exec(line)?.[1] ?? NaN))
  t.ok(times.every((s) => s >= 0), `every stderr line is a progress line: ${lines[0]}`)
  t.ok(times.length >= 12 && times.every((s, i) => s - (times[i - 1] ?? 0) <= 5), `one at least every 5 s (${times.join(', ')})`)
  t.match(res.stderr, /the app sent 1 and answered \d+ s ago, and nothing has reached us: the path holds them back \(nginx does, until proxy_read_timeout: 60 s by default\)/, 'it says what it waits for')

  // The same, measured by the test's raw client (for 5 s: held) and as JSON; the line on a live app.
  const o = await verdict(start, ['--timeout', '4000'], '/usual')
  agrees(t, o)
  await optionsKeepFinal(t, start, "{ behind: 'nginx' }", { prefix: '/usual' })
})
