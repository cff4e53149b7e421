// Proves: nginx 1.22 takes the first 102 for the response (pinned), and the gates that avoid it.
import t from 'tap'
import { BODY, FAST, curl, rawExchange, startApp, startNginx, statusLines } from './peers.js'
import { needs } from './needs.js'

// nginx 1.22 (Debian 12) is a documented incompatibility: it takes the first 102 for the final
// response. These tests pin today's behaviour so that a change in nginx (or in the plugin) shows up.
// The plugin's answer is gating: `when` (here on a header nginx adds) or requireExpect, or talking
// HTTP/1.0 to the upstream (nginx's default), which never gets a 102.
t.test('nginx 1.22 in front of the plugin: what breaks, and what keeps it working', async (t) => {
  if (!await needs(t, 'nginx') || !await needs(t, 'curl')) return
  const app = await startApp({ ...FAST, when: (request) => request.headers['x-behind-nginx'] !== '1' })
  const nginx = await startNginx(app.port, { readTimeout: '3s' })
  t.teardown(async () => { await nginx.stop(); await app.close() })

  const [buffered, unbuffered, curlUnbuffered, http10, marked] = await Promise.all([
    rawExchange(nginx.port, ['/slow'], { ms: 8000 }),
    // A second request on the same client connection, 1.5 s after the first.
    rawExchange(nginx.port, ['/unbuffered/slow', '/unbuffered/fast'], { gap: 1500, ms: 8000 }),
    curl(`${nginx.origin}/unbuffered/slow`),
    curl(`${nginx.origin}/http10/slow`),
    curl(`${nginx.origin}/marked/slow`)
  ])
  const NGINX_102 = /^HTTP\/1\.1 102 Processing\r\nServer: nginx\/[\d.]+\r\nDate: [^\r]+\r\nConnection: keep-alive\r\n\r\n/

  t.test('proxy_http_version 1.1, buffering on: the 102 becomes the final response, the 200 is lost', async (t) => {
    t.match(buffered.text, NGINX_102, 'nginx sends its own head for the first 102, as a final response')
    t.same(statusLines(buffered.text), [102], 'and nothing else: no 200, no body')
    t.equal(buffered.closed, 'close', 'then closes the connection')
    t.ok(buffered.closedAt >= 2900, `only when proxy_read_timeout (3 s) expires (${Math.round(buffered.closedAt)} ms)`)
    t.match(await nginx.errorLog(), /upstream timed out .* while reading upstream/, 'nginx logs an upstream timeout')
  })

  t.test('proxy_http_version 1.1, buffering off: the rest leaks as an unframed body, the connection is lost', async (t) => {
    t.match(unbuffered.text, NGINX_102, 'the first 102 is again the final response')
    const statuses = statusLines(unbuffered.text)
    t.equal(statuses[0], 102)
    t.equal(statuses.filter((s) => s === 200).length, 1, "the upstream's 200 arrives only as body bytes")
    t.ok(unbuffered.text.endsWith(BODY), 'followed by its body')
    t.equal(unbuffered.closed, 'close', 'the connection is closed by nginx at proxy_read_timeout')
    t.notMatch(unbuffered.text.slice(unbuffered.text.indexOf(BODY) + BODY.length), /HTTP\//, 'the second request on that connection got no response')
    // curl happens to parse those raw bytes as interims followed by the 200.
    t.match(curlUnbuffered.results[0], { status: 200, body: BODY }, 'curl reads the leaked bytes as 102s and a 200')
  })

  t.test("nginx's default proxy_http_version 1.0: the plugin sends no 102 upstream, all is well", async (t) => {
    t.equal(http10.code, 0, http10.stderr)
    t.same([http10.results[0]?.status, http10.results[0]?.body, http10.results[0]?.interims], [200, BODY, []])
  })

  t.test('a `when` gate on a header nginx adds: no 102 to nginx, clean 200', async (t) => {
    t.equal(marked.code, 0, marked.stderr)
    t.same([marked.results[0]?.status, marked.results[0]?.body, marked.results[0]?.interims], [200, BODY, []])
  })
})
