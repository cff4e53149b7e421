// Proves: curl sees the 102s over HTTP/1.1 and h2c, none over HTTP/1.0; final responses intact.
import t from 'tap'
import { BODY, CHUNKS, curl, startApp } from './peers.js'
import { needs } from './needs.js'

// curl 7.88 prints every interim head with -i, so it shows exactly which 102s reached it.
t.test('curl: HTTP/1.1 and h2c see the 102s, HTTP/1.0 sees none, every final response is intact', async (t) => {
  if (!await needs(t, 'curl')) return
  const h1 = await startApp()
  const h2 = await startApp(undefined, { http2: true })
  t.teardown(async () => { await h1.close(); await h2.close() })

  const [http11, http10, h2slow, h2chunked] = await Promise.all([
    // Two URLs in one curl run share one keep-alive connection: reuse after a response with 102s.
    curl([`${h1.origin}/slow`, `${h1.origin}/chunked`]),
    curl([`${h1.origin}/slow`, `${h1.origin}/chunked`], { mode: 'http1.0' }),
    // One URL per run: curl 7.88 cannot reuse a --http2-prior-knowledge connection for a second URL
    // ("Error in the HTTP2 framing layer"), with or without this plugin.
    curl(`${h2.origin}/slow`, { mode: 'h2c' }),
    curl(`${h2.origin}/chunked`, { mode: 'h2c' })
  ])

  t.equal(http11.code, 0, `curl --http1.1 succeeds ${http11.stderr}`)
  const [slow, chunked] = http11.results
  t.match(slow, { status: 200, body: BODY, version: 'HTTP/1.1' }, 'HTTP/1.1 content-length response intact')
  t.match(chunked, { status: 200, body: CHUNKS.join(''), version: 'HTTP/1.1' }, 'HTTP/1.1 chunked response intact')
  for (const r of [slow, chunked]) {
    t.ok(r!.interims.length >= 2, `102s seen on HTTP/1.1 (${r!.interims.length})`)
    t.ok(r!.interims.every((s) => s === 102), 'every interim is a 102')
    t.ok(r!.interimVersions.every((v) => v === 'HTTP/1.1'), 'interims are HTTP/1.1')
  }

  t.equal(http10.code, 0, `curl --http1.0 succeeds ${http10.stderr}`)
  t.match(http10.results, [
    { status: 200, body: BODY, interims: [] },
    { status: 200, body: CHUNKS.join(''), interims: [] }
  ], 'HTTP/1.0: final responses intact')
  t.same(http10.results.map((r) => r.interims), [[], []], 'HTTP/1.0: no 102 at all')

  for (const [name, res, body] of [['slow', h2slow, BODY], ['chunked', h2chunked, CHUNKS.join('')]] as const) {
    t.equal(res.code, 0, `curl --http2-prior-knowledge ${name} succeeds ${res.stderr}`)
    const r = res.results[0]!
    t.match(r, { status: 200, body, version: 'HTTP/2' }, `h2c ${name}: final response intact`)
    t.ok(r.interims.length >= 2 && r.interims.every((s) => s === 102), `h2c ${name}: 102s seen (${r.interims.length})`)
  }
})

t.test('curl: keep-alive connection reused after responses that had 102s', async (t) => {
  if (!await needs(t, 'curl')) return
  const app = await startApp()
  t.teardown(() => app.close())
  const res = await curl([`${app.origin}/slow?ms=350`, `${app.origin}/slow?ms=350`, `${app.origin}/fast`])
  t.equal(res.code, 0, res.stderr)
  t.match(res.results, [{ status: 200, body: BODY }, { status: 200, body: BODY }, { status: 200, body: BODY }])
  t.same(res.results[2]?.interims, [], 'the fast request got no 102')
  t.ok(res.results[0]!.interims.length >= 1 && res.results[1]!.interims.length >= 1, 'both slow requests got 102s')
  t.equal(app.connections, 1, 'all three requests used one TCP connection')
})
