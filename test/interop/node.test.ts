// Proves: Node's http and http2 clients get the 102s, and they keep a short socket timeout from firing.
import http from 'node:http'
import t from 'tap'
import { BODY, CHUNKS, fetchWith, nodeHttp2, nodeRequest, startApp } from './peers.js'

t.test('Node http.request: 102s through the information event, final responses intact, keep-alive reused', async (t) => {
  const app = await startApp()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(async () => { agent.destroy(); await app.close() })
  const slow = await nodeRequest(app.origin, '/slow', { agent })
  const chunked = await nodeRequest(app.origin, '/chunked', { agent })
  const fast = await nodeRequest(app.origin, '/fast', { agent })
  t.match(slow, { status: 200, body: BODY, error: null, reusedSocket: false })
  t.match(chunked, { status: 200, body: CHUNKS.join(''), error: null, reusedSocket: true }, 'reused after a response with 102s')
  t.match(fast, { status: 200, body: BODY, error: null, reusedSocket: true })
  t.same(fast.interims, [], 'a fast route gets no 102')
  for (const r of [slow, chunked]) t.ok(r.interims.length >= 2 && r.interims.every((s) => s === 102), `102s seen (${r.interims.length})`)
  t.equal(app.connections, 1, 'one TCP connection for all three')
})

t.test('Node http.request: a socket timeout shorter than the handler survives with the 102s, fires without', async (t) => {
  const withPlugin = await startApp({ threshold: 1000, interval: 1000 })
  const without = await startApp(null)
  t.teardown(async () => { await withPlugin.close(); await without.close() })
  const [ok, timedOut] = await Promise.all([
    nodeRequest(withPlugin.origin, '/slow?ms=3500', { timeout: 2000 }),
    nodeRequest(without.origin, '/slow?ms=3500', { timeout: 2000 })
  ])
  t.match(ok, { status: 200, body: BODY, error: null }, 'each 102 resets the idle timer')
  t.ok(ok.interims.length >= 3, `102s seen (${ok.interims.length})`)
  t.match(timedOut, { status: null, error: 'SOCKET_TIMEOUT' }, 'without the plugin the client gives up')
})

t.test('Node http2 client: 102s as :status headers, final responses intact, one session', async (t) => {
  const app = await startApp(undefined, { http2: true })
  t.teardown(() => app.close())
  const { error, results } = await nodeHttp2(app.origin, ['/slow', '/chunked', '/fast'])
  t.equal(error, null)
  t.match(results, [
    { status: 200, body: BODY, error: null },
    { status: 200, body: CHUNKS.join(''), error: null },
    { status: 200, body: BODY, error: null }
  ])
  t.same(results[2]?.interims, [], 'the fast route gets no 102')
  for (const r of results.slice(0, 2)) t.ok(r.interims.length >= 2 && r.interims.every((s) => s === 102), `102s seen (${r.interims.length})`)
  // A second batch on a new session still works after the first session saw 102s.
  const again = await nodeHttp2(app.origin, ['/slow?ms=150'])
  t.match(again.results, [{ status: 200, body: BODY, interims: [102] }])
  t.equal(app.connections, 2)
})

t.test("Node's built-in fetch (bundled undici): final responses intact (it exposes no 1xx)", async (t) => {
  const app = await startApp()
  t.teardown(() => app.close())
  const [slow, chunked] = await Promise.all([fetchWith(fetch, `${app.origin}/slow`), fetchWith(fetch, `${app.origin}/chunked`)])
  t.match(slow, { status: 200, body: BODY, error: null })
  t.match(chunked, { status: 200, body: CHUNKS.join(''), error: null })
})
