// Proves: the gate: unknown proxy paths get no 102 by default; known and declared ones get their own limit.
import type { FastifyReply } from 'fastify'
import t from 'tap'
import { captureLogs, request, serve, sleep, interimsFor } from './helpers.js'

const FAST = { threshold: 10, interval: 10, limit: 12 }
const slow = async (_req: unknown, reply: FastifyReply) => {
  await sleep(250)
  return { sent: reply.processingSent }
}
const routes = (app: import('fastify').FastifyInstance): void => {
  app.get('/slow', { config: { processing: true } }, slow)
  app.get('/manual', async (_req, reply) => ({ results: [reply.processing(), reply.processing()] }))
}
const count = interimsFor

// The usual headers in front of Node: nginx with proxy_set_header, and ingress-nginx's set.
const NGINX = { 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }
const INGRESS = {
  ...NGINX,
  'x-request-id': 'abc',
  'x-forwarded-host': 'example.com',
  'x-forwarded-port': '443',
  'x-forwarded-scheme': 'https',
  'x-scheme': 'https'
}

t.test('undeclared: a request with proxy signs that nothing explains gets no 102, automatic or manual; one without keeps them', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, FAST, routes, { logger })
  t.equal(await count(port, {}), 12, 'no sign: the route limit')
  t.equal(await count(port, NGINX), 0, 'nginx\'s usual headers: none')
  t.equal(await count(port, INGRESS), 0, 'ingress-nginx\'s headers: none')
  t.equal(await count(port, { forwarded: 'for=203.0.113.7' }), 0, 'Forwarded')
  t.equal(await count(port, { via: '1.1 proxy' }), 0, 'Via')
  t.equal(await count(port, { 'x-amzn-trace-id': 'Root=1-abc' }), 0, 'an AWS ALB: unknown until declared')
  const manual = await request(port, '/manual', { headers: NGINX })
  t.same([manual.infos.length, JSON.parse(manual.body).results], [0, [false, false]], 'reply.processing() obeys the same rule')
  const warnings = lines.filter((l) => l.code === 'FST_PROCESSING_PROXY_WITHHELD')
  t.same(warnings.map((w) => w.kinds), [['x-real-ip', 'x-forwarded-*'], ['x-scheme'], ['forwarded'], ['via'], ['x-amzn-trace-id']],
    'one warning per kind of sign, never repeated: the second nginx request and the manual one said nothing')
  t.same(warnings[0]?.headers, ['x-real-ip', 'x-forwarded-for', 'x-forwarded-proto'], 'names the headers it saw')
  t.match(warnings[0]?.msg, /it carries x-real-ip, x-forwarded-for, x-forwarded-proto\), so it gets no 102 until behind declares the path: if every proxy in front passes 102s, name it as in \{ behind: 'haproxy' \}.*; behind nginx, \{ behind: 'nginx' \} sends none and ends this warning/)
  t.equal(warnings[0]?.looksLike, null, 'the usual nginx headers look like no proxy the table names')
})

t.test('recognised proxies only lower: a declared path is capped by the rows its requests match, never raised', async (t) => {
  const at = async (behind: unknown, headers: Record<string, string>): Promise<number> => {
    const { port } = await serve(t, { ...FAST, behind } as never, routes)
    return count(port, headers)
  }
  const traefik = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'a', 'x-forwarded-port': '443', 'x-forwarded-proto': 'https', 'x-forwarded-server': 'traefik-1', 'x-real-ip': '1.2.3.4' }
  const apache = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-host': 'a', 'x-forwarded-server': 'www' }
  t.same(await Promise.all([
    at('traefik', traefik),
    at('traefik', { ...traefik, 'x-varnish': '32770' }),
    at('probed', apache),
    at('cloudflare', { 'cf-ray': '8a-LHR', ...NGINX })
  ]), [12, 0, 9, 12], 'Traefik declared: the route limit; with a Varnish sign: none; Apache\'s headers on a probed path: 9; a declared Cloudflare vouches for the rest')
})

t.test('declared paths: a name lets 102s through with its own cap, a rule decides per request, a chain takes the lowest', async (t) => {
  const at = async (behind: unknown, headers: Record<string, string>): Promise<number> => {
    const { port } = await serve(t, { ...FAST, behind } as never, routes)
    return count(port, headers)
  }
  const viaNginx = { ...NGINX, 'x-behind-nginx': '1' }
  const rule = (r: { headers: Record<string, unknown> }) => r.headers['x-behind-nginx'] === undefined
  t.same(await Promise.all([
    at('haproxy', { 'x-forwarded-for': '1.2.3.4' }),
    at('nothing', NGINX),
    at('caddy', NGINX),
    at(['cloudflare', 'apache'], { 'cf-ray': 'x' }),
    at(rule, viaNginx),
    at(rule, {}),
    at('haproxy', { 'user-agent': 'Go-http-client/1.1', 'x-forwarded-for': '1.2.3.4' })
  ]), [12, 12, 5, 9, 0, 12, 5], 'haproxy, nothing, caddy 5, a chain 9, the rule refusing nginx and passing the rest, a known client still capped')
})

t.test('a rule that throws vouches for nothing, warned once per route with a code', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, { ...FAST, behind: () => { throw new Error('no header') } }, routes, { logger })
  t.same([await count(port, {}), await count(port, {})], [0, 0])
  t.same(lines.map((l) => l.code), ['FST_PROCESSING_RULE_THREW'])
  t.match(lines[0]?.msg, /the behind rule threw, so this request gets no 102/)
})

t.test('Cloudflare: a route that can run past 125 s after its first 102 is said once, at ready when declared and at the first request when recognised on a path that passes 102s', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, { ...FAST, behind: 'probed' }, routes, { logger })
  await count(port, { 'cf-ray': 'x' })
  await count(port, { 'cf-ray': 'y' })
  const said = lines.filter((l) => l.code === 'FST_PROCESSING_PAST_PROXY_DEADLINE')
  t.equal(said.length, 1)
  t.match(said[0]?.msg, /is behind Cloudflare, which wants the final response within 125000 ms of the first 102, but the route has no handlerTimeout/)
  const refused = captureLogs('warn')
  const { port: none } = await serve(t, { ...FAST, behind: () => false }, routes, { logger: refused.logger })
  t.equal(await count(none, { 'cf-ray': 'z' }), 0)
  t.same(refused.lines, [], 'a request that gets no 102 has no first 102 to time: nothing said')
  const declared = captureLogs('warn')
  await serve(t, { behind: 'cloudflare' }, routes, { logger: declared.logger })
  t.same(declared.lines.map((l) => [l.code, l.route]), [['FST_PROCESSING_PAST_PROXY_DEADLINE', 'GET /slow']])
})

t.test('interimBytes: progress headers stop before they break a client that counts them against its header budget', async (t) => {
  const big = 'x'.repeat(1000)
  const { port } = await serve(t, { threshold: 60_000, interimBytes: 4096 }, (app) => {
    app.get('/progress', async (_req, reply) => ({ results: Array.from({ length: 6 }, () => reply.processing({ progress: big })), small: reply.processing() }))
  })
  const res = await request(port, '/progress')
  // Each 102 is 28 bytes of status line and blank line, plus "progress: " + 1000 + CRLF.
  t.same(JSON.parse(res.body), { results: [true, true, true, false, false, false], small: false }, 'three of 1040 bytes fit in 4096; then the request gets none')
  t.equal(res.infos.length, 3)
})

const hasHandlerTimeout = 'handlerTimeout' in (await import('fastify')).default().initialConfig

t.test('Cloudflare: a handlerTimeout within 125 s of the first 102 says nothing; a longer one is said', { skip: !hasHandlerTimeout && 'Fastify < 5.8 has no handlerTimeout' }, async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, { ...FAST, limit: 10_000, behind: 'cloudflare' }, (app) => {
    app.get('/fits', { handlerTimeout: 60_000, config: { processing: true } }, slow)
    app.get('/long', { handlerTimeout: 300_000, config: { processing: true } }, slow)
  }, { logger })
  await Promise.all([count(port, { 'cf-ray': 'a' }, '/fits'), count(port, { 'cf-ray': 'b' }, '/long')])
  t.same(lines.map((l) => [l.code, l.route]), [
    ['FST_PROCESSING_PAST_PROXY_DEADLINE', 'GET /long'],
    ['FST_PROCESSING_PAST_PROXY_DEADLINE', 'GET /long']
  ], 'at ready (declared) and at the first request (recognised), for the long route only')
  t.match(lines[0]?.msg, /its handlerTimeout is 300000 ms: set handlerTimeout to at most 125010 ms/)
})
