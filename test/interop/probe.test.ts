// Proves: the probe command's verdict on paths that forward 102s (safe, capped, deadline) is what each
// real proxy does, agrees with the test's own raw client, and its options line keeps the final response.
import t from 'tap'
import { startApache, startCaddy, startGoProxy, startLighttpd, startSquid } from './atlas.js'
import { needs } from './needs.js'
import { startHaproxy } from './peers.js'
import { agrees, capAgrees, optionsKeepFinal, verdict, describe } from './verdicts.js'

t.test('HAProxy: safe, and the 102s keep the path alive past `timeout server`', async (t) => {
  if (!await needs(t, 'haproxy')) return
  const start = (port: number) => startHaproxy(port, { timeoutServer: '1s' })
  const o = await verdict(start, ['--hold', '2500'])
  t.equal(o.kind, 'safe', describe(o))
  t.match(o.verdict, /^safe: every 102 passed, and they keep the path alive past its idle timeout/)
  t.equal(o.exit, 0)
  t.same(o.cap, { works: 100, fails: null, failure: null, max: 100, steady: true }, 'every count up to 100')
  t.same(o.arrived, { seen: 100, sent: 100 }, 'every 102 reaches the client')
  t.same(o.keepAlive, { without: true, after: true }, 'the connection is reused after 102s')
  t.equal(o.hold?.with, 'intact', 'held 2.5 s with 102s: the final response')
  t.equal(o.hold?.without, 'status 504', 'held 2.5 s in silence: 504 from HAProxy')
  t.equal(o.options, '{} (the defaults fit this path)')
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options)
})

for (const [name, cmd, pkg, start] of [
  ['lighttpd, as installed', 'lighttpd', 'lighttpd', (port: number) => startLighttpd(port)],
  ['Squid (accel), at its defaults', 'squid', 'squid', (port: number) => startSquid(port, { readTimeout: 900 })]
] as const) {
  t.test(`${name}: safe, every 102 and the final response pass`, async (t) => {
    if (!await needs(t, cmd, pkg)) return
    const o = await verdict(start)
    t.equal(o.kind, 'safe', describe(o))
    t.equal(o.verdict, 'safe')
    t.equal(o.exit, 0)
    t.same(o.arrived, { seen: 100, sent: 100 })
    t.same(o.keepAlive, { without: true, after: true })
    t.equal(o.options, "{ behind: 'probed' }", 'its X-Forwarded-For or Via: the measurement vouches for it')
    agrees(t, o)
    await optionsKeepFinal(t, start, o.options)
  })
}

for (const [name, cmd, pkg, start, cap, seen, options] of [
  // Apache's headers are proxy signs, which never unlock a 102 (issue 30): the measurement vouches for them.
  ['Apache mod_proxy_http', 'apache2', 'apache2', (port: number) => startApache(port), 9, 9, "{ behind: 'probed', limit: 9 }"],
  ['Caddy', 'caddy', 'caddy', (port: number) => startCaddy(port), 5, 5, "{ behind: 'probed', limit: 5 }"],
  ["Go's httputil.ReverseProxy", 'go', 'golang-go', (port: number) => startGoProxy(port), 5, 0, "{ behind: 'probed', limit: 5 }"]
] as const) {
  t.test(`${name}: capped at ${cap}`, async (t) => {
    if (!await needs(t, cmd, pkg)) return
    const o = await verdict(start)
    t.equal(o.kind, 'capped', describe(o))
    t.equal(o.verdict, `capped at ${cap}${seen === 0 ? ' (and the 102s do not reach the client)' : ''}`)
    t.equal(o.exit, 1)
    t.match(o.cap, { works: cap, fails: cap + 1, steady: true })
    t.equal(o.deadline, null, 'the same count at twice the interval still passes: a count, not a clock')
    t.same(o.arrived, { seen, sent: cap })
    t.equal(o.options, options)
    agrees(t, o)
    await capAgrees(t, start, o)
    await optionsKeepFinal(t, start, o.options)
  })
}

t.test("Caddy's response_header_timeout: a deadline the 102s do not reset, not a cap", async (t) => {
  if (!await needs(t, 'caddy')) return
  const start = (port: number) => startCaddy(port, { responseHeaderTimeout: '700ms' })
  // 200 ms apart, the clock runs out before Caddy's count cap (5) is reached.
  const o = await verdict(start, ['--interval', '200'])
  t.equal(o.kind, 'deadline', describe(o))
  t.match(o.verdict, /^deadline: the path fails about 0\.\d s after the request \(status 504\) whatever the count, and 102s do not reset it$/)
  t.equal(o.exit, 1)
  t.match(o.cap, { works: 3, fails: 4, steady: true })
  t.ok(o.deadline !== null && o.deadline.ms >= 650 && o.deadline.ms < 1500, `named at ${o.deadline?.ms} ms (Caddy: 700 ms)`)
  t.equal(o.deadline?.by, 'counts')
  t.notMatch(o.options, /limit/, 'no count cap in the options')
  agrees(t, o)
  // The clock ends every request at 0.7 s, with or without 102s: the line is proven on one that ends sooner.
  await optionsKeepFinal(t, start, o.options, { ms: 400 })

  // --hold on a capped path: the cap (5, at the default interval) and the clock, both named.
  const held = await verdict(start, ['--hold', '2000'])
  t.equal(held.kind, 'deadline', describe(held))
  t.match(held.verdict, /^deadline: the path fails about 0\.\d s after the request \(status 504\).*; also capped at 5$/)
  t.match(held.hold, { with: 'status 504', without: 'status 504' })
  t.equal(held.options, "{ behind: 'probed', limit: 5 }")
})
