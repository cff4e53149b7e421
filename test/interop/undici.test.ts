// Proves: undici sees the 102s through onInfo, and they restart its headersTimeout.
import t from 'tap'
import { Agent, fetch, Pool } from 'undici'
import { BODY, CHUNKS, fetchWith, startApp, undiciRequest } from './peers.js'

t.test('undici request(): 102s through onInfo, final responses intact, keep-alive reused', async (t) => {
  const app = await startApp()
  const pool = new Pool(app.origin, { connections: 1 })
  t.teardown(async () => { await pool.close(); await app.close() })
  const slow = await undiciRequest(app.origin, '/slow', { dispatcher: pool })
  const chunked = await undiciRequest(app.origin, '/chunked', { dispatcher: pool })
  const fast = await undiciRequest(app.origin, '/fast', { dispatcher: pool })
  t.match(slow, { status: 200, body: BODY, error: null })
  t.match(chunked, { status: 200, body: CHUNKS.join(''), error: null })
  t.match(fast, { status: 200, body: BODY, error: null })
  t.same(fast.interims, [], 'a fast route gets no 102')
  for (const r of [slow, chunked]) t.ok(r.interims.length >= 2 && r.interims.every((s) => s === 102), `102s seen (${r.interims.length})`)
  t.equal(app.connections, 1, 'one connection, reused after responses with 102s')
})

t.test('undici fetch(): final responses intact (it exposes no 1xx)', async (t) => {
  const app = await startApp()
  t.teardown(() => app.close())
  const [slow, chunked] = await Promise.all([fetchWith(fetch, `${app.origin}/slow`), fetchWith(fetch, `${app.origin}/chunked`)])
  t.match(slow, { status: 200, body: BODY, error: null })
  t.match(chunked, { status: 200, body: CHUNKS.join(''), error: null })
})

// The reason this plugin exists: every 1xx restarts undici's headersTimeout.
t.test('undici headersTimeout (2 s) shorter than the handler (3.5 s): survives with 102s, times out without', async (t) => {
  const withPlugin = await startApp({ threshold: 1000, interval: 1000 })
  const without = await startApp(null)
  const agents = [new Agent({ headersTimeout: 2000 }), new Agent({ headersTimeout: 2000 })]
  t.teardown(async () => {
    await Promise.all(agents.map((a) => a.close()))
    await withPlugin.close()
    await without.close()
  })
  const [ok, timedOut, fetchOk, fetchTimedOut] = await Promise.all([
    undiciRequest(withPlugin.origin, '/slow?ms=3500', { headersTimeout: 2000 }),
    undiciRequest(without.origin, '/slow?ms=3500', { headersTimeout: 2000 }),
    fetchWith(fetch, `${withPlugin.origin}/slow?ms=3500`, { dispatcher: agents[0] }),
    fetchWith(fetch, `${without.origin}/slow?ms=3500`, { dispatcher: agents[1] })
  ])
  t.match(ok, { status: 200, body: BODY, error: null }, 'request(): 200 after 3.5 s')
  t.ok(ok.ms >= 3400, `took the handler's 3.5 s (${Math.round(ok.ms)} ms)`)
  t.ok(ok.interims.length >= 3, `102s seen (${ok.interims.length})`)
  t.match(timedOut, { status: null, error: 'UND_ERR_HEADERS_TIMEOUT' }, 'request() without the plugin: headers timeout')
  t.match(fetchOk, { status: 200, body: BODY, error: null }, 'fetch(): 200 after 3.5 s')
  t.match(fetchTimedOut, { status: null, error: 'UND_ERR_HEADERS_TIMEOUT' }, 'fetch() without the plugin: headers timeout')
})
