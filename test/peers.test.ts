// Proves: known peers get at most their row's 102s; the `peers` option turns that off or extends it.
import type { FastifyReply } from 'fastify'
import t from 'tap'
import { knownPeers, type PeerRule } from '../lib/peers.js'
import { captureLogs, request, serve, sleep } from './helpers.js'

// Known peers get at most the 102s they can take, so that default options never leave their request
// worse off than no plugin. Here the peers are recognised from the request alone; test/interop/ proves the
// limits against the real clients and proxies.

const FAST = { threshold: 10, interval: 10, limit: 12 }
const slow = async (_req: unknown, reply: FastifyReply) => {
  await sleep(250)
  return { sent: reply.processingSent }
}

// A proxy's row caps a declared path ('probed' here); undeclared, its headers alone get none
// (headers-lower.test.ts).
t.test('a recognised peer gets no more 102s than its row allows; everyone else gets the route limit', async (t) => {
  const { port } = await serve(t, { ...FAST, behind: 'probed' }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow)
  })
  const count = async (headers: Record<string, string>): Promise<number> => (await request(port, '/slow', { headers })).infos.length
  const [java, go, requests, urllib, varnish, apache, envoy, curl] = await Promise.all([
    count({ 'user-agent': 'Java-http-client/17.0.15' }),
    count({ 'user-agent': 'Go-http-client/1.1' }),
    count({ 'user-agent': 'python-requests/2.28.1' }),
    count({ 'user-agent': 'Python-urllib/3.11' }),
    count({ 'x-varnish': '32770' }),
    count({ 'x-forwarded-server': 'proxy.example' }),
    count({ 'x-envoy-expected-rq-timeout-ms': '15000' }),
    count({ 'user-agent': 'curl/7.88.1' })
  ])
  t.same({ java, go, requests, urllib, varnish, apache, envoy }, { java: 8, go: 5, requests: 0, urllib: 0, varnish: 0, apache: 9, envoy: 1 })
  t.equal(curl, 12, 'an unrecognised client gets the route limit')
})

t.test('peers: [] turns recognition off; a user row extends the table; a route can set its own', async (t) => {
  const mine: PeerRule = { name: 'legacy SDK', match: (r) => r.headers['x-sdk'] === 'old', limit: 2, evidence: 'our incident 42' }
  const { port } = await serve(t, { ...FAST, peers: [...knownPeers, mine] }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow)
    app.get('/off', { config: { processing: { peers: [] } } }, slow)
  })
  const count = async (path: string, headers: Record<string, string>): Promise<number> => (await request(port, path, { headers })).infos.length
  t.equal(await count('/slow', { 'x-sdk': 'old' }), 2, 'the user row')
  t.equal(await count('/slow', { 'user-agent': 'Java-http-client/21' }), 8, 'the known rows are still there')
  t.equal(await count('/off', { 'user-agent': 'Java-http-client/21' }), 12, 'recognition off on one route')
})

t.test('a peer limit also caps reply.processing(), and is logged at debug', async (t) => {
  const { lines, logger } = captureLogs('debug')
  const { port } = await serve(t, FAST, (app) => {
    app.get('/manual', async (_req, reply) => {
      const results = [reply.processing({ step: 1 }), reply.processing({ step: 2 })]
      return { results }
    })
  }, { logger })
  const res = await request(port, '/manual', { headers: { 'user-agent': 'python-requests/2.28.1' } })
  t.same([res.infos.length, JSON.parse(res.body).results], [0, [false, false]])
  t.match(lines.find((l) => l.peer !== undefined), { peer: 'Python requests', limit: 0 })
})

t.test('a when() that answers anything but a boolean gets no 102, and one warning per route', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, { threshold: 10 }, (app) => {
    // An async function is refused at registration; one that returns a promise can only be caught here.
    app.get('/promise', { config: { processing: { when: (() => Promise.resolve(true)) as unknown as () => boolean } } }, slow)
    app.get('/truthy', { config: { processing: { when: (() => 'yes') as unknown as () => boolean } } }, slow)
  }, { logger })
  const counts = await Promise.all(['/promise', '/promise', '/truthy'].map(async (p) => (await request(port, p)).infos.length))
  t.same(counts, [0, 0, 0])
  const warnings = lines.filter((l) => l.level === 40).map((l) => [l.route, l.msg])
  t.same(warnings.map(([route]) => route), ['GET /promise', 'GET /truthy'], 'once per route')
  t.match(String(warnings[0]?.[1]), /`when` must return true or false synchronously, returned Promise/)
  t.match(String(warnings[1]?.[1]), /returned string/)
})

t.test('processing: false refuses reply.processing() too; a route that did not opt in may call it', async (t) => {
  const manual = async (_req: unknown, reply: FastifyReply) => ({ result: reply.processing({ progress: '1/2' }) })
  const { port } = await serve(t, { global: true, threshold: 5_000 }, (app) => {
    app.get('/off', { config: { processing: false } }, manual)
    app.get('/on', manual)
  })
  const off = await request(port, '/off')
  t.same([off.infos.length, JSON.parse(off.body).result], [0, false], 'the explicit opt-out wins')
  const on = await request(port, '/on')
  t.same([on.infos.length, JSON.parse(on.body).result], [1, true])
})

t.test('a route declared before the plugin loaded: reply.processing() uses the plugin options', async (t) => {
  const { port } = await serve(t, null, (app) => {
    app.get('/early', async (_req, reply) => ({ result: reply.processing() }))
    // Registered without await, as a CommonJS app without top-level await does: the route above is
    // declared before the plugin runs, so onRoute never saw it.
    app.register(import('../index.js'), { limit: 1 })
  })
  const res = await request(port, '/early')
  t.same([res.infos.length, JSON.parse(res.body).result], [1, true])
})

t.test('a peer rule that throws is taken as a match, never as a failed request, and warned once per route', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const broken: PeerRule = { name: 'broken rule', match: () => { throw new Error('no header') }, limit: 1, evidence: 'test' }
  const { port } = await serve(t, { ...FAST, peers: [broken] }, (app) => {
    app.get('/slow', { config: { processing: true } }, slow)
  }, { logger })
  const counts = await Promise.all([1, 2].map(async () => (await request(port, '/slow')).infos.length))
  t.same(counts, [1, 1])
  const warnings = lines.filter((l) => l.level === 40)
  t.equal(warnings.length, 1)
  t.match(warnings[0], { route: 'GET /slow', msg: /peer rule "broken rule" threw, so it is taken as a match/, err: { message: 'no header' } })
})

t.test('every file a peer row or a declarable path cites as evidence exists', async (t) => {
  const { existsSync } = await import('node:fs')
  const { knownPaths } = await import('../lib/peers.js')
  const evidence = [...knownPeers.map((p) => p.evidence ?? ''), ...Object.values(knownPaths).map((p) => p.evidence)]
  const cited = evidence.flatMap((e) => e.match(/\b(?:test|docs|bin|lib)\/[\w./-]+\.(?:ts|js|md)\b/g) ?? [])
  t.ok(cited.length >= 10, `${cited.length} files cited`)
  for (const file of new Set(cited)) t.ok(existsSync(new URL(`../${file}`, import.meta.url)), file)
  t.ok(knownPeers.every((p) => typeof p.evidence === 'string' && p.evidence.length > 0), 'every built-in row says where its limit comes from')
})
