// Proves: Python's http.client breaks on a 102 without gating, and is clean with requireExpect or when.
import t from 'tap'
import { BODY, FAST, curl, nodeRequest, pythonClient, startApp } from './peers.js'
import { needs } from './needs.js'

// Python's http.client skips only 100 Continue: any other 1xx becomes the response.
t.test('Python http.client: a 102 becomes the response without gating; requireExpect or when keep it clean', async (t) => {
  if (!await needs(t, 'python3') || !await needs(t, 'curl')) return
  const plain = await startApp(FAST)
  const expecting = await startApp({ ...FAST, requireExpect: true })
  // Only clients known to handle 1xx get 102s; http.client sends no User-Agent at all.
  const gated = await startApp({ ...FAST, when: (request) => /^(curl|node|undici)/i.test(request.headers['user-agent'] ?? '') })
  const none = await startApp(null)
  t.teardown(async () => { for (const app of [plain, expecting, gated, none]) await app.close() })

  const [broken, withExpect, withWhen, control, nodeExpect, curlWhen] = await Promise.all([
    pythonClient(plain.port, '/slow'),
    pythonClient(expecting.port, '/slow'),
    pythonClient(gated.port, '/slow'),
    pythonClient(none.port, '/slow'),
    nodeRequest(expecting.origin, '/slow', { headers: { expect: '102-processing' } }),
    curl(`${gated.origin}/slow`)
  ])

  t.equal(broken.error, null, 'python ran')
  t.match(broken.responses[0], { status: 102, body: '' }, 'without gating the first 102 is taken as the final response, empty body')
  t.not(broken.responses[1]?.status, 200, 'and the next request on that connection reads a leftover of the first one')
  t.comment(`python, no gating: ${JSON.stringify(broken.responses)}`)

  const clean = [{ status: 200, body: BODY, error: null }, { status: 200, body: BODY, error: null }]
  t.same(control.responses, clean, 'control: without the plugin both requests are clean')
  t.same(withExpect.responses, clean, 'requireExpect: true: Python sends no Expect: 102-processing, so it gets no 102')
  t.same(withWhen.responses, clean, 'when: a User-Agent allow-list keeps 102s away from Python')

  t.match(nodeExpect, { status: 200, body: BODY }, 'a client that asks with Expect: 102-processing is served')
  t.ok(nodeExpect.interims.length >= 2, `and still gets its 102s (${nodeExpect.interims.length})`)
  t.ok(curlWhen.results[0]!.interims.length >= 2, 'curl passes the when gate and gets its 102s')
})
