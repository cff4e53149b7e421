// Proves: OkHttp 3.13 takes a 102 for the response, and default options keep 102s from it.
import t from 'tap'
import { okhttpClient, withApp } from './atlas.js'
import { needs } from './needs.js'

// OkHttp before 4.11 (Debian 12 ships 3.13.1 as libokhttp-java) reads a 102 as the final response: a 1xx
// has no body for it, so the call returns code 102 and the pooled connection is then out of step.
// Measured directly against the app (no proxy), so that only the client is judged.
const urls = (origin: string) => [`${origin}/slow?ms=1300`, `${origin}/slow?ms=300`]

t.test('OkHttp 3.13: a 102 becomes the response without the peer table; with the defaults both calls get their 200', async (t) => {
  if (!await needs(t, 'java', 'openjdk-17-jdk-headless') || !await needs(t, '/usr/share/java/okhttp.jar', 'libokhttp-java')) return
  // The first call's route answers after 1300 ms, past the default 1000 ms threshold; the second after 300 ms,
  // so its own answer reports no 102 sent (`sent: 0`), and a `sent: 1` in it is the first call's leftover.
  const [exposed, defaults] = await Promise.all([
    withApp({ peers: [] }, async (app) => ({ responses: await okhttpClient(urls(app.origin)), connections: app.connections })),
    withApp({}, async (app) => ({ responses: await okhttpClient(urls(app.origin)), connections: app.connections }))
  ])

  const [first, second] = exposed.responses
  t.match(first, { status: 102, body: '', error: null }, 'peers: []: the first call returns code 102 with an empty body')
  t.match(second, { status: 200, ok: true, sent: 1 }, "the next call on that client reads the first call's 200 (it reports the 102 sent for the first)")
  t.equal(exposed.connections, 1, 'both on one pooled connection')

  t.same(defaults.responses.map((r) => [r.status, r.ok, r.sent, r.error]), [[200, true, 0, null], [200, true, 0, null]],
    'default options: each call gets its own 200, and no 102 was sent')
  t.equal(defaults.connections, 1, 'on one pooled connection')
  t.match(second?.ua, /^okhttp\/3\./, `the User-Agent the peer row matches: ${second?.ua}`)
})
