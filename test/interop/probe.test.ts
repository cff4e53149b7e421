// Proves: the probe command's verdict through each proxy the atlas runs matches what the atlas measured.
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { pluginOptions } from '../../dist/lib/options.js'
import { probeOptions, probeRoute } from '../../dist/lib/probe-endpoint.js'
import { startApache, startCaddy, startGoProxy, startSquid, startVarnish } from './atlas.js'
import { needs } from './needs.js'
import { run, startHaproxy, startNginx } from './peers.js'

// The probe's verdict through every proxy the atlas runs must be the atlas's own row
// (test/interop/atlas.test.ts): the command, run as a user runs it, against the built package.

const TOKEN = 'interop-probe-token-0123'
const BIN = fileURLToPath(new URL('../../dist/bin/fastify-processing.js', import.meta.url))

interface Proxy { origin: string, stop (): Promise<void> }
interface Outcome {
  verdict: string
  options: string
  exit: number
  cap: { works: number, fails: number | null } | null
  arrived: { seen: number, sent: number } | null
  hold: { with: string, without: string } | null
  keepAlive: { without: boolean, after: boolean | null } | null
  stderr: string
}

/** An app that serves only the probe (built package), a proxy in front of it, and the command through both. */
async function verdict (start: (upstream: number) => Promise<Proxy>, args: string[] = [], path = '/_probe'): Promise<Outcome> {
  const app = Fastify()
  app.route(probeRoute(probeOptions({ path: '/_probe', token: TOKEN })!, pluginOptions({}).defaults))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const proxy = await start((app.server.address() as AddressInfo).port)
  try {
    const res = await run(process.execPath, [BIN, 'probe', `${proxy.origin}${path}`, '--token', TOKEN, '--json', ...args], { timeout: 180_000 })
    try {
      return { ...JSON.parse(res.stdout), exit: res.code, stderr: res.stderr }
    } catch {
      throw new Error(`no JSON from the command (exit ${res.code}): ${res.stdout} ${res.stderr}`)
    }
  } finally {
    await proxy.stop()
    await app.close()
  }
}

const describe = (o: Outcome): string => `${o.verdict} (exit ${o.exit}, options ${o.options}, policy ${JSON.stringify((o as unknown as { app: unknown }).app)})`

t.test('HAProxy: safe, and the 102s keep the path alive past `timeout server`', async (t) => {
  if (!await needs(t, 'haproxy')) return
  const o = await verdict((port) => startHaproxy(port, { timeoutServer: '1s' }), ['--hold', '2500'])
  t.equal(o.verdict, 'safe', describe(o))
  t.equal(o.exit, 0)
  t.same(o.cap, { works: 100, fails: null, failure: null, max: 100, steady: true }, 'every count up to 100')
  t.same(o.arrived, { seen: 100, sent: 100 }, 'every 102 reaches the client')
  t.same(o.keepAlive, { without: true, after: true }, 'the connection is reused after 102s')
  t.equal(o.hold?.with, 'intact', 'held 2.5 s with 102s: the final response')
  t.equal(o.hold?.without, 'status 504', 'held 2.5 s in silence: 504 from HAProxy')
  t.match(o.stderr, /holding \d+\.\d s of 2\.5 s/, 'progress while the hold runs')
  t.equal(o.options, '{} (the defaults fit this path)')
})

t.test('nginx (proxy_http_version 1.1): takes a 102 as final', async (t) => {
  if (!await needs(t, 'nginx')) return
  const o = await verdict((port) => startNginx(port, { readTimeout: '2s' }))
  t.equal(o.verdict, 'takes a 102 as final: do not send', describe(o))
  t.equal(o.exit, 1)
  t.same(o.cap?.works, 0)
  t.same(o.arrived, { seen: 1, sent: 1 }, 'the client got the 102, then never the final response')
  t.equal(o.options, "{ behind: 'nginx' } (no 102 on this path, and no warning)", 'this nginx adds no proxy sign, so the defaults would send')
})

t.test("nginx's default proxy_http_version 1.0: the app sees HTTP/1.0, so no 102 goes on this path", async (t) => {
  if (!await needs(t, 'nginx')) return
  const o = await verdict((port) => startNginx(port), [], '/http10/_probe')
  t.equal(o.verdict, 'the app sees HTTP/1.0: no 102 can go on this path', describe(o))
  t.equal(o.exit, 1)
  t.match(o.options, /^\{\} \(the plugin sends no 102 on this path/)
})

t.test('Apache mod_proxy_http: capped at 9', async (t) => {
  if (!await needs(t, 'apache2')) return
  const o = await verdict((port) => startApache(port))
  t.equal(o.verdict, 'capped at 9', describe(o))
  t.equal(o.exit, 1)
  t.match(o.cap, { works: 9, fails: 10 })
  t.same(o.arrived, { seen: 9, sent: 9 })
  t.equal(o.options, "{ behind: 'probed', limit: 9 }", 'X-Forwarded-Server alone unlocks nothing: declared, and capped')
})

t.test('Caddy: capped at 5', async (t) => {
  if (!await needs(t, 'caddy')) return
  const o = await verdict((port) => startCaddy(port))
  t.equal(o.verdict, 'capped at 5', describe(o))
  t.equal(o.exit, 1)
  t.match(o.cap, { works: 5, fails: 6 })
  t.equal(o.options, "{ behind: 'probed', limit: 5 }", 'X-Forwarded-* from an unknown proxy: declared, and capped')
})

t.test("Go's httputil.ReverseProxy: capped at 5, and the 102s do not reach the client", async (t) => {
  if (!await needs(t, 'go', 'golang-go')) return
  const o = await verdict((port) => startGoProxy(port))
  t.equal(o.verdict, 'capped at 5 (and the 102s do not reach the client)', describe(o))
  t.equal(o.exit, 1)
  t.match(o.cap, { works: 5, fails: 6 })
  t.same(o.arrived, { seen: 0, sent: 5 })
  t.equal(o.options, "{ behind: 'probed', limit: 5 }")
})

t.test('Varnish: fails at the first 102', async (t) => {
  if (!await needs(t, 'varnishd', 'varnish')) return
  const o = await verdict((port) => startVarnish(port))
  t.equal(o.verdict, 'fails at the first 102', describe(o))
  t.equal(o.exit, 1)
  t.same(o.arrived, { seen: 0, sent: 1 })
  t.equal(o.options, '{} (the defaults already send no 102 on this path)', 'its X-Varnish and X-Forwarded-For withhold them already')
})

t.test('Squid: forwards the 102s, but they do not keep the path alive past read_timeout', async (t) => {
  if (!await needs(t, 'squid')) return
  // Squid times out on a whole-second clock: 3 s, so that no count trial (at most 0.6 s here) comes near it.
  const o = await verdict((port) => startSquid(port, { readTimeout: 3 }), ['--hold', '5000', '--max', '30', '--interval', '20'])
  t.equal(o.verdict, 'forwarded, but they do not keep the path alive', describe(o))
  t.equal(o.exit, 1)
  t.same(o.arrived, { seen: 30, sent: 30 }, 'every 102 reaches the client')
  t.equal(o.hold?.with, 'status 504', 'held 5 s with a 102 every second: 504 all the same')
  t.equal(o.hold?.without, 'status 504', 'held 5 s in silence: 504')
})
