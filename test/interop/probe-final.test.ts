// Proves: the probe command's verdict on paths that must get no 102 (takes one as final, holds them,
// breaks the connection, fails at the first, drops them) is what each real proxy does, agrees with the
// test's own raw client, and its options line keeps the final response intact behind the same proxy.
import t from 'tap'
import { startVarnish } from './atlas.js'
import { needs } from './needs.js'
import { startNginx } from './peers.js'
import { agrees, optionsKeepFinal, verdict, describe } from './verdicts.js'

t.test('nginx (HTTP/1.1 upstream, the usual headers, proxy_read_timeout 1s): takes a 102 as final', async (t) => {
  if (!await needs(t, 'nginx')) return
  // 1 s: well inside the 2 s of silence the command needs to call a path one that holds.
  const start = (port: number) => startNginx(port, { readTimeout: '1s' })
  const o = await verdict(start, [], '/usual')
  t.equal(o.kind, 'final', describe(o))
  t.equal(o.verdict, 'takes a 102 as final: do not send')
  t.equal(o.exit, 1)
  t.same(o.cap?.works, 0)
  t.same(o.arrived, { seen: 1, sent: 1 }, 'the client got the 102, then never the final response')
  t.equal(o.held, null, 'released after 1 s: not held long enough to say so')
  t.equal(o.options, "{ behind: 'nginx' }", 'send none, and no warning about the unknown proxy')
  agrees(t, o)
  // A request shorter than nginx's 1 s read timeout, which ends any slower one whatever the plugin does.
  await optionsKeepFinal(t, start, o.options, { prefix: '/usual', ms: 300 })
})

t.test('nginx at its default proxy_read_timeout (60 s), seen for 6 s: holds the 102s back', async (t) => {
  if (!await needs(t, 'nginx')) return
  const start = (port: number) => startNginx(port, { readTimeout: null })
  const o = await verdict(start, ['--timeout', '6000'], '/usual')
  t.equal(o.kind, 'holds', describe(o))
  t.match(o.verdict, /^holds 102s back: nothing reached the client in [56]\.\d s after the app had sent 1 and answered/)
  t.equal(o.exit, 1)
  t.same(o.arrived, { seen: 0, sent: 1 })
  t.match(o.held, { sent: 1, reached: 0 })
  t.equal(o.options, "{ behind: 'nginx' }")
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options, { prefix: '/usual' })
})

t.test('nginx with proxy_buffering off, default flags and proxy_read_timeout: breaks the connection after a 102', async (t) => {
  if (!await needs(t, 'nginx')) return
  // At nginx's default 60 s, the next request on the connection waits that long: the command sees in
  // 10 s that the app never got it, and stops at the first count.
  const start = (port: number) => startNginx(port, { readTimeout: null })
  const o = await verdict(start, [], '/unbuffered')
  t.equal(o.kind, 'breaks', describe(o))
  t.equal(o.verdict, 'breaks the connection after a 102: the next request on it fails: do not send')
  t.equal(o.exit, 1)
  t.same(o.keepAlive, { without: true, after: false }, 'reused without 102s, not after them')
  t.equal(o.final, 'intact', 'the client reads the final response out of the raw bytes')
  t.ok(o.ms < 40_000, `a verdict in ${Math.round(o.ms / 1000)} s`)
  t.equal(o.options, "{ behind: 'nginx' }")
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options, { prefix: '/unbuffered' })
})

t.test('Varnish: fails at the first 102', async (t) => {
  if (!await needs(t, 'varnishd', 'varnish')) return
  const start = (port: number) => startVarnish(port)
  const o = await verdict(start)
  t.equal(o.kind, 'fails-first', describe(o))
  t.equal(o.verdict, 'fails at the first 102 (status 503)')
  t.equal(o.exit, 1)
  t.same(o.arrived, { seen: 0, sent: 1 })
  t.equal(o.options, '{} (the defaults already send no 102 on this path)', 'its X-Varnish and X-Forwarded-For withhold them already')
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options)
})

t.test("nginx's default proxy_http_version 1.0: the app sees HTTP/1.0, so no 102 goes on this path", async (t) => {
  if (!await needs(t, 'nginx')) return
  const o = await verdict((port) => startNginx(port), [], '/http10')
  t.equal(o.kind, 'no-interims', describe(o))
  t.equal(o.verdict, 'the app sees HTTP/1.0: no 102 can go on this path')
  t.equal(o.exit, 1)
  t.match(o.options, /^\{\} \(the plugin sends no 102 on this path/)
})
