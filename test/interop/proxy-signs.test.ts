// Proves: nginx, ingress-nginx and the Strapi recipe get no 102 by default; `behind: 'nginx'` none and no warning; clients without signs still get theirs.
import diagnostics from 'node:diagnostics_channel'
import type { IncomingHttpHeaders } from 'node:http'
import t from 'tap'
import { BODY, curl, rawRequests, startApp, startNginx } from './peers.js'
import { needs } from './needs.js'

// nginx reads a 102 as the final response in every version, and adds no header of its own; its usual
// setups add proxy headers (X-Real-IP, X-Forwarded-*), and those are what the plugin's defaults act on.
// Every app here has the plugin's default options, but `behind` where a test says so. The route answers
// after 1300 ms, past the default 1000 ms threshold, so one 102 is due before the 200.
const SLOW = '/slow?ms=1300'
const OK = [200, BODY, []]
/** curl's own error lines, without the -v trace. */
const errors = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('curl:')).join(' ') || 'curl: no error'

const withheld: Array<{ port: number | undefined, reason: string, headers: IncomingHttpHeaders }> = []
diagnostics.subscribe('fastify-processing:withheld', (message) => {
  const { request, reason } = message as { request: { socket?: { localPort?: number }, headers: IncomingHttpHeaders }, reason: string }
  withheld.push({ port: request.socket?.localPort, reason, headers: request.headers })
})

t.test('nginx (proxy_http_version 1.1, upstream keepalive) with the usual headers, ingress-nginx\'s or the Strapi recipe\'s: default options keep the client in step', async (t) => {
  if (!await needs(t, 'nginx') || !await needs(t, 'curl')) return
  const [safe, exposed, ruled] = await Promise.all([
    startApp({}),
    // 'nothing' vouches for every path: the proxy headers are ignored, so the 102 goes to nginx.
    startApp({ behind: 'nothing' }),
    // The user's rule: nginx marks what it forwards, and only unmarked requests are vouched for.
    startApp({ behind: (request) => request.headers['x-behind-nginx'] === undefined })
  ])
  const [nSafe, nExposed, nRuled] = await Promise.all([safe, exposed, ruled].map((app) => startNginx(app.port, { readTimeout: '2s' })))
  t.teardown(async () => {
    await Promise.all([nSafe, nExposed, nRuled].map((n) => n!.stop()))
    await Promise.all([safe, exposed, ruled].map((app) => app.close()))
  })

  // Two requests on one client connection each: the slow one, then a fast one.
  const both = (prefix: string) => [`${prefix}${SLOW}`, `${prefix}/fast`]
  const curlBoth = (origin: string, prefix: string) => curl(both(prefix).map((p) => origin + p), { extra: ['-v'], timeout: 5000 })
  const [usualCurl, usualRaw, ingressCurl, ingressRaw, strapiCurl, strapiRaw, exposedUsualCurl, exposedUsualRaw, exposedIngressRaw, ruledRaw, ruledDirect, ruledVouched, directCurl, directRaw] = await Promise.all([
    curlBoth(nSafe!.origin, '/usual'),
    rawRequests(nSafe!.port, both('/usual'), { ms: 5000 }),
    curlBoth(nSafe!.origin, '/ingress'),
    rawRequests(nSafe!.port, both('/ingress'), { ms: 5000 }),
    curlBoth(nSafe!.origin, '/strapi'),
    rawRequests(nSafe!.port, both('/strapi'), { ms: 5000 }),
    curlBoth(nExposed!.origin, '/usual'),
    rawRequests(nExposed!.port, both('/usual'), { ms: 5000 }),
    rawRequests(nExposed!.port, both('/ingress'), { ms: 5000 }),
    rawRequests(nRuled!.port, both('/usual-marked'), { ms: 5000 }),
    curl(`${ruled.origin}${SLOW}`),
    curl(`${ruled.origin}${SLOW}`, { extra: ['-H', 'X-Forwarded-For: 203.0.113.7'] }),
    curl([`${safe.origin}${SLOW}`, `${safe.origin}/fast`], { extra: ['-v'] }),
    rawRequests(safe.port, both(''), { ms: 5000 })
  ])
  const outcome = (r: { status: number | null, body: string | null, interims: number[] }) => [r.status, r.body, r.interims]
  // Which nginx location a withheld request came through, by the headers only that location sets.
  const setup = (h: IncomingHttpHeaders) => h['x-request-id'] !== undefined ? 'ingress' : h['x-forwarded-server'] !== undefined ? 'strapi' : 'usual'
  const reasons = (port: number, kind: 'usual' | 'ingress' | 'strapi') => withheld
    .filter((w) => w.port === port && setup(w.headers) === kind).map((w) => w.reason)

  for (const [name, viaCurl, raw, kind] of [
    ['usual headers', usualCurl, usualRaw, 'usual'],
    ["ingress-nginx's headers", ingressCurl, ingressRaw, 'ingress'],
    // X-Forwarded-Server with X-Real-IP is what Traefik sends, too: a header never unlocks a 102.
    ["the Strapi recipe's headers (Traefik's set)", strapiCurl, strapiRaw, 'strapi']
  ] as const) {
    t.test(`${name}: both requests get their 200, on one client connection, and no 102 reaches nginx`, async (t) => {
      t.equal(viaCurl.code, 0, errors(viaCurl.stderr))
      t.same(viaCurl.results.map(outcome), [OK, OK], 'curl: two intact 200s, no interim')
      t.match(viaCurl.stderr, /Re-using existing connection/, 'curl sent the second on the same connection')
      t.equal(raw.closed, 'done', 'raw client: both responses complete')
      t.same(raw.responses.map(outcome), [OK, OK], 'raw client: two intact 200s, no interim, on one socket')
      t.equal(raw.responses[0]?.headers['x-processing-sent'], '0', 'the app sent no 102')
      t.same(reasons(safe.port, kind), ['proxy', 'proxy'], "each slow request was withheld for its proxy headers (channel 'fastify-processing:withheld')")
    })
  }

  t.test("without the protection (behind: 'nothing'), the same paths leave the client stuck at nginx's 102", async (t) => {
    for (const [name, raw] of [['usual', exposedUsualRaw], ['ingress', exposedIngressRaw]] as const) {
      t.same(raw.responses, [], `${name}: the raw client got no final response, though the app answered at 1300 ms`)
      t.same(raw.pending, [102], `${name}: only nginx's bare 102`)
      t.equal(raw.closed, 'closed by peer', `${name}: then nginx closed the connection at its proxy_read_timeout (${Math.round(raw.ms)} ms)`)
      t.equal(raw.rest, '', `${name}: the second request was never answered`)
    }
    t.equal(exposedUsualCurl.results[0]?.status, 102, 'curl: a bare 102 is the last thing it read for the slow request')
    t.match(errors(exposedUsualCurl.stderr), /\(52\) Empty reply from server/, 'and fails that transfer when nginx closes')
  })

  t.test('a rule that vouches only for what nginx did not mark: nginx is still kept from 102s, a direct client still gets them', async (t) => {
    t.equal(ruledRaw.closed, 'done', 'through nginx: both responses complete')
    t.same(ruledRaw.responses.map(outcome), [OK, OK], 'through nginx: two intact 200s, no interim, on one socket')
    t.same(reasons(ruled.port, 'usual'), ['proxy'], 'withheld for its proxy headers')
    t.equal(ruledDirect.code, 0, errors(ruledDirect.stderr))
    t.same(outcome(ruledDirect.results[0]!), [200, BODY, [102]], 'direct: a 102, then the 200')
    t.same(outcome(ruledVouched.results[0]!), [200, BODY, [102]], 'direct with X-Forwarded-For, which the rule vouches for: a 102, then the 200')
  })

  t.test('a request with no proxy sign keeps the old behaviour: its 102s', async (t) => {
    t.equal(directCurl.code, 0, errors(directCurl.stderr))
    t.same(directCurl.results.map(outcome), [[200, BODY, [102]], OK], 'curl: a 102 then the 200; the fast one none')
    t.match(directCurl.stderr, /Re-using existing connection/, 'on one connection')
    t.equal(directRaw.closed, 'done', 'raw client: both responses complete')
    t.same(directRaw.responses.map(outcome), [[200, BODY, [102]], OK], 'raw client: the same, on one socket')
  })
})

t.test("behind: 'nginx': no 102 through nginx, with or without proxy headers, none to a direct request, and no warning", async (t) => {
  if (!await needs(t, 'nginx') || !await needs(t, 'curl')) return
  const app = await startApp({ behind: 'nginx' }, { logs: true })
  const nginx = await startNginx(app.port, { readTimeout: '2s' })
  t.teardown(async () => { await nginx.stop(); await app.close() })
  const both = (prefix: string) => [`${prefix}${SLOW}`, `${prefix}/fast`]
  const [strapi, bare, direct] = await Promise.all([
    rawRequests(nginx.port, both('/strapi'), { ms: 5000 }),
    // A bare proxy_pass: nginx adds no header, nothing on the request tells it from a direct client.
    rawRequests(nginx.port, both(''), { ms: 5000 }),
    curl([`${app.origin}${SLOW}`, `${app.origin}/fast`], { extra: ['-v'] })
  ])
  const outcome = (r: { status: number | null, body: string | null, interims: number[] }) => [r.status, r.body, r.interims]
  for (const [name, raw] of [['the Strapi recipe', strapi], ['a bare proxy_pass', bare]] as const) {
    t.equal(raw.closed, 'done', `${name}: both responses complete`)
    t.same(raw.responses.map(outcome), [OK, OK], `${name}: two intact 200s, no interim, on one client connection`)
    t.equal(raw.responses[0]?.headers['x-processing-sent'], '0', `${name}: the app sent no 102`)
  }
  t.equal(direct.code, 0, errors(direct.stderr))
  t.same(direct.results.map(outcome), [OK, OK], 'direct: no 102 either; the declaration covers every request')
  t.same(app.logs(), [], 'nothing logged at warn or above')
})
