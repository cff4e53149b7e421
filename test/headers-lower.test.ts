// Proves: a header never unlocks a 102: every proxy row gets none until the path is declared, and `behind: 'nginx'` sends none quietly.
import type { FastifyReply, FastifyRequest } from 'fastify'
import t from 'tap'
import { knownPaths, knownPeers, type PathName } from '../lib/peers.js'
import { captureLogs, request, serve, sleep, interimsFor } from './helpers.js'

// Any header a proxy adds, another proxy (or a client) can add too: nginx set up by a published recipe
// sends Traefik's headers. So recognising a proxy from the request may lower what the request gets, and
// only the user's declaration (`behind`) lets 102s through a request that shows proxy signs.

const SLOW = { threshold: 100, interval: 100 }
const FAST = { threshold: 10, interval: 10, limit: 12 }
const slow = (ms: number) => async (_req: unknown, reply: FastifyReply) => {
  await sleep(ms)
  return { sent: reply.processingSent }
}
const count = interimsFor

// A circulated recipe for Strapi behind nginx (proxy_http_version 1.1, keepalive) sets these.
const STRAPI = {
  'x-forwarded-host': 'example.com',
  'x-forwarded-server': 'example.com',
  'x-real-ip': '203.0.113.7',
  'x-forwarded-for': '203.0.113.7',
  'x-forwarded-proto': 'https'
}

t.test("the issue's header sets, default options, a 450 ms handler with 102s due every 100 ms: none of them unlocks a 102", async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, SLOW, (app) => {
    app.get('/slow', { config: { processing: true } }, slow(450))
  }, { logger })
  const [strapi, apacheLike, usual, none] = await Promise.all([
    count(port, STRAPI),
    count(port, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-host': 'example.com', 'x-forwarded-server': 'example.com' }),
    count(port, { 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }),
    count(port, {})
  ])
  t.same({ strapi, apacheLike, usual }, { strapi: 0, apacheLike: 0, usual: 0 }, 'read as Traefik, as Apache, or as nothing: no 102 either way')
  t.ok(none > 0, `the same route sends 102s to a request without proxy signs (${none})`)

  // The first of them said which value to declare, and how to say "none, quietly".
  const warning = lines.find((l) => l.code === 'FST_PROCESSING_PROXY_WITHHELD')
  t.match(warning?.msg, /these headers look like Traefik's: if Traefik is in front, \{ behind: 'traefik' \}/, 'names the proxy the headers look like, and its value')
  t.equal(warning?.looksLike, 'traefik')
  t.match(warning?.msg, /\{ behind: 'nginx' \} sends none and ends this warning/, "shows behind: 'nginx' as the way to say none, quietly")
})

// Request headers that make a row match: the names come from the row (`adds`), the values from here, and a
// row whose match needs a value this table lacks fails the check below rather than slipping by.
const VALUES: Record<string, string> = { via: '1.1 cache (ApacheTrafficServer/9.2.9)' }
const requestFor = (names: readonly string[]): Record<string, string> =>
  Object.fromEntries(names.map((name) => [name, VALUES[name] ?? '203.0.113.7']))
const proxyRows = knownPeers.filter((row) => row.adds !== undefined)

t.test('every proxy row in knownPeers: exactly its headers get no 102 by default; declared, the path gets what row and path allow', async (t) => {
  t.ok(['Traefik', 'Apache httpd mod_proxy_http', 'Cloudflare', 'Apache Traffic Server', 'Varnish', 'Envoy'].every((name) => proxyRows.some((row) => row.name === name)),
    `the rows that name a proxy say so with adds (${proxyRows.map((row) => row.name).join(', ')})`)
  const routes = (app: import('fastify').FastifyInstance): void => {
    app.get('/slow', { config: { processing: true } }, slow(250))
  }
  const { port } = await serve(t, FAST, routes, { logger: false })
  for (const row of proxyRows) {
    const headers = requestFor(row.adds!)
    t.ok(row.match({ headers } as unknown as FastifyRequest), `${row.name}: the row recognises a request with its headers (${Object.keys(headers).join(', ')})`)
    t.equal(await count(port, headers), 0, `${row.name}: no 102 with default options`)
    const behind = (row.path ?? 'probed') as PathName
    const declared = await serve(t, { ...FAST, behind }, routes)
    const allows = Math.min(row.limit, knownPaths[behind].limit, FAST.limit)
    t.equal(await count(declared.port, headers), allows, `${row.name}, behind: '${behind}': ${allows}`)
  }
})

t.test('a proxy row the user adds can lower, never unlock: with Infinity and adds of its own, its headers still get none', async (t) => {
  const mine = { name: 'Our edge', match: (r: FastifyRequest) => r.headers['x-our-edge'] !== undefined, limit: Infinity, adds: ['x-our-edge', 'x-forwarded-for'], evidence: 'test' }
  const { port } = await serve(t, { ...FAST, peers: [...knownPeers, mine] }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow(250))
  }, { logger: false })
  t.same(await Promise.all([count(port, { 'x-our-edge': '1', 'x-forwarded-for': '203.0.113.7' }), count(port, { 'x-our-edge': '1' })]), [0, 12],
    'with a proxy sign: none; without one, the row does not lower the route limit')
})

t.test("behind: 'nginx', 'kong', 'ingress-nginx': no 102 through it, none to a direct request, reply.processing() false, and no warning", async (t) => {
  const { lines, logger } = captureLogs('info')
  const apps = await Promise.all((['nginx', 'kong', 'ingress-nginx', ['cloudflare', 'nginx']] as const).map(async (behind) => serve(t, { ...FAST, behind: behind as never }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow(250))
    app.get('/manual', async (_req, reply) => ({ results: [reply.processing(), reply.processing({ step: 2 })] }))
  }, { logger })))
  for (const { port } of apps) {
    t.same(await Promise.all([count(port, STRAPI), count(port, {}), count(port, { 'user-agent': 'curl/8' })]), [0, 0, 0], 'through the proxy, direct, any client')
    const manual = await request(port, '/manual', { headers: STRAPI })
    t.same([manual.infos.length, JSON.parse(manual.body).results], [0, [false, false]])
  }
  t.same(lines.filter((l) => Number(l.level) >= 40), [], 'nothing at warn or above')
})
