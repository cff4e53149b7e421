// Proves: HAProxy forwards every 102, and they keep its `timeout server` from firing.
import http from 'node:http'
import t from 'tap'
import { BODY, CHUNKS, curl, nodeRequest, startApp, startHaproxy } from './peers.js'
import { needs } from './needs.js'

t.test('HAProxy forwards every 102 and the intact final response; keep-alive reuse works', async (t) => {
  if (!await needs(t, 'haproxy') || !await needs(t, 'curl')) return
  const app = await startApp()
  const proxy = await startHaproxy(app.port)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(async () => { agent.destroy(); await proxy.stop(); await app.close() })

  const res = await curl([`${proxy.origin}/slow`, `${proxy.origin}/chunked`])
  t.equal(res.code, 0, res.stderr)
  t.match(res.results, [{ status: 200, body: BODY }, { status: 200, body: CHUNKS.join('') }])
  for (const r of res.results) t.ok(r.interims.length >= 2 && r.interims.every((s) => s === 102), `102s forwarded (${r.interims.length})`)

  const first = await nodeRequest(proxy.origin, '/slow', { agent })
  const second = await nodeRequest(proxy.origin, '/slow', { agent })
  t.match(first, { status: 200, body: BODY, error: null })
  t.match(second, { status: 200, body: BODY, error: null, reusedSocket: true }, 'client connection to HAProxy reused')
  t.ok(second.interims.length >= 2, `102s forwarded on the reused connection (${second.interims.length})`)
})

t.test('HAProxy timeout server 2s: a 6 s handler with a 102 every 1 s returns 200; without the plugin 504', async (t) => {
  if (!await needs(t, 'haproxy') || !await needs(t, 'curl')) return
  const withPlugin = await startApp({ threshold: 1000, interval: 1000 })
  const without = await startApp(null)
  const [p1, p0] = await Promise.all([
    startHaproxy(withPlugin.port, { timeoutServer: '2s' }),
    startHaproxy(without.port, { timeoutServer: '2s' })
  ])
  t.teardown(async () => {
    await p1.stop()
    await p0.stop()
    await withPlugin.close()
    await without.close()
  })
  const [ok, timedOut] = await Promise.all([curl(`${p1.origin}/slow?ms=6000`), curl(`${p0.origin}/slow?ms=6000`)])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.results[0], { status: 200, body: BODY }, '200 after 6 s through a 2 s server timeout')
  t.ok(ok.results[0]!.interims.length >= 5, `the 102s reached the client (${ok.results[0]!.interims.length})`)
  t.ok(ok.ms >= 5900, `took ${Math.round(ok.ms)} ms`)
  t.match(timedOut.results[0], { status: 504 }, 'without the plugin HAProxy gives up: 504')
  t.same(timedOut.results[0]?.interims, [], 'having forwarded no interim')
  t.ok(timedOut.ms < 4000, `after its 2 s server timeout (${Math.round(timedOut.ms)} ms)`)
})

// HAProxy adds nothing by default; with `option forwardfor` it adds X-Forwarded-For, a proxy sign the
// plugin cannot tell apart from nginx's. Default options then withhold the 102s and say so once; declaring
// `behind: 'haproxy'` lets them through. threshold and interval are lowered only to keep the test short.
t.test("HAProxy with option forwardfor: no 102 and one coded warning until `behind: 'haproxy'`; then the 102s reach the client and reset timeout server", async (t) => {
  if (!await needs(t, 'haproxy') || !await needs(t, 'curl')) return
  const timing = { threshold: 300, interval: 300 }
  const [undeclared, declared] = await Promise.all([
    startApp(timing, { logs: true }),
    startApp({ ...timing, behind: 'haproxy' }, { logs: true })
  ])
  const [p0, p1] = await Promise.all([
    startHaproxy(undeclared.port, { forwardfor: true }),
    startHaproxy(declared.port, { forwardfor: true, timeoutServer: '1s' })
  ])
  t.teardown(async () => {
    await Promise.all([p0.stop(), p1.stop()])
    await Promise.all([undeclared.close(), declared.close()])
  })
  const [before, after] = await Promise.all([
    curl([`${p0.origin}/slow?ms=1000`, `${p0.origin}/chunked?ms=1000`]),
    curl(`${p1.origin}/slow?ms=2500`)
  ])
  const withheldWarnings = (app: typeof undeclared) => app.logs().filter((line) => JSON.stringify(line).includes('FST_PROCESSING_PROXY_WITHHELD'))

  t.equal(before.code, 0, before.stderr)
  t.same(before.results.map((r) => [r.status, r.body, r.interims]), [[200, BODY, []], [200, CHUNKS.join(''), []]],
    'undeclared: both requests get their intact 200, and no 102')
  const warnings = withheldWarnings(undeclared)
  t.equal(warnings.length, 1, 'one warning for two withheld requests')
  t.match(JSON.stringify(warnings[0] ?? null), /x-forwarded-for/i, 'naming the header it saw')
  t.match(JSON.stringify(warnings[0] ?? null), /behind/, 'and the option that lets the 102s through')

  t.equal(after.code, 0, after.stderr)
  t.match(after.results[0], { status: 200, body: BODY }, "declared: 200 after 2.5 s through HAProxy's 1 s timeout server")
  t.ok(after.results[0]!.interims.length >= 3 && after.results[0]!.interims.every((s) => s === 102), `the 102s reached the client (${after.results[0]!.interims.length})`)
  t.same(withheldWarnings(declared), [], 'and nothing was withheld')
})
