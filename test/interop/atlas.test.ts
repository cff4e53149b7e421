// Proves: what Debian's real clients and proxies do with 102s, pinned live; the peer table knows the bad ones.
import t from 'tap'
import type { Test } from 'tap'
import { knownPeers } from '../../dist/index.js'
import {
  CLIENT_NAMES, PYTHON, capProbe, chromiumFetch, clientRun, goClient, javaClient, rubyClient, startApache, startCaddy,
  startGoProxy, startSquid, startVarnish, throughProxy, withApp
} from './atlas.js'
import { needs } from './needs.js'
import { curl, run } from './peers.js'

// The atlas: what the clients and proxies users deploy with do with 102s, measured live (Debian 12's
// packages, installed by .ci/install-peers.sh). Each known-broken behaviour is pinned, so that a change in
// a peer, or in the plugin, shows up here. The matrix in docs/peers.md comes from the same probes (npm run interop).

const FAST = { threshold: 50, interval: 50 }
const recognised = (headers: Record<string, string>): string[] =>
  knownPeers.filter((p) => p.match({ headers } as never)).map((p) => p.name)

async function pythonLibs (t: Test): Promise<boolean> {
  if (!await needs(t, PYTHON, 'python3')) return false
  const res = await run(PYTHON, ['-c', 'import httpx, aiohttp, requests'])
  if (res.code === 0) return true
  return needs(t, 'python3-httpx-aiohttp-requests', 'python3-httpx python3-aiohttp python3-requests')
}

t.test('clients: every one gets its intact final response and reuses its connection; the peer table knows the broken ones', async (t) => {
  if (!await needs(t, 'java', 'openjdk-17-jdk-headless') || !await needs(t, 'go', 'golang-go') || !await needs(t, 'ruby') || !await pythonLibs(t)) return
  const runs = await Promise.all(CLIENT_NAMES.map(async (name) => [name, await clientRun(name, FAST, { n: name === 'urllib' ? 1 : 2 })] as const))
  for (const [name, { responses, connections }] of runs) {
    t.same(responses.map((r) => [r.status, r.ok, r.error]), responses.map(() => [200, true, null]), `${name}: every final response intact`)
    t.equal(connections, 1, `${name}: ${responses.length} request(s) on one connection`)
    const ua = responses[0]?.ua ?? ''
    const peers = recognised({ 'user-agent': ua })
    const broken = ['java', 'go', 'requests', 'urllib'].includes(name)
    t.equal(peers.length, broken ? 1 : 0, `${name} (User-Agent "${ua}"): ${broken ? `recognised as ${peers[0]}` : 'not limited'}`)
    if (!broken) t.ok((responses[0]?.sent ?? 0) >= 3, `${name}: got its 102s (${responses[0]?.sent}) and skipped them`)
  }
  const go = runs.find(([name]) => name === 'go')?.[1].responses[0]
  t.equal(go?.interims, go?.sent, 'Go sees every 102 it was sent (httptrace Got1xxResponse)')
})

t.test('Chromium: fetch() from a page gets the final response; the 102s stay invisible', async (t) => {
  if (!await needs(t, 'chromium')) return
  const res = await withApp(FAST, (app) => chromiumFetch(app.origin, 500))
  t.same([res.status, res.ok, res.error], [200, true, null])
  t.ok((res.sent ?? 0) >= 5, `the page's fetch was sent ${res.sent} 102s`)
  t.match(res.ua, /HeadlessChrome/)
})

t.test('interim caps, measured: the last limit each peer survives, and the first it fails', async (t) => {
  if (!await needs(t, 'java', 'openjdk-17-jdk-headless') || !await needs(t, 'go', 'golang-go') || !await needs(t, 'ruby') ||
    !await needs(t, 'apache2') || !await needs(t, 'caddy') || !await needs(t, 'squid')) return
  const status = async (p: Promise<Array<{ status: number | null }>>): Promise<number | null> => (await p)[0]?.status ?? null
  const viaProxy = (start: typeof startApache) => (app: { port: number }, q: string) => throughProxyTo(start, app.port, q)
  const [java, go, ruby, apache, caddy, goProxy, squid] = await Promise.all([
    capProbe([8, 9], (app, q) => status(javaClient(`${app.origin}/slow?${q}`))),
    capProbe([5, 6], (app, q) => status(goClient(`${app.origin}/slow?${q}`))),
    capProbe([101], (app, q) => status(rubyClient(`${app.origin}/slow?${q}`))),
    capProbe([9, 10], viaProxy(startApache)),
    capProbe([5, 6], viaProxy(startCaddy as typeof startApache)),
    capProbe([5, 6], viaProxy(startGoProxy as typeof startApache)),
    capProbe([130], viaProxy(startSquid as typeof startApache))
  ])
  t.same(java, { 8: 200, 9: null }, 'Java HttpClient: 8 interims, then "Too many interim responses received: 9 > 8"')
  t.same(go, { 5: 200, 6: null }, 'Go 1.19 net/http: 5, then "too many 1xx informational responses"')
  t.same(ruby, { 101: 200 }, 'Ruby 3.1 Net::HTTP: no cap up to 101 (newer net-http caps at 100)')
  t.same(apache, { 9: 200, 10: 502 }, 'Apache mod_proxy_http: 9, then 502 (AH00898)')
  t.same(caddy, { 5: 200, 6: 502 }, 'Caddy 2.6: 5, then 502 (its Go transport)')
  t.same(goProxy, { 5: 200, 6: 502 }, 'Go 1.19 httputil.ReverseProxy: 5, then 502')
  t.same(squid, { 130: 200 }, 'Squid 5.7: no cap up to 130')
})

async function throughProxyTo (start: typeof startApache, upstream: number, query: string): Promise<number | null> {
  const proxy = await start(upstream)
  try {
    return (await curl([`${proxy.origin}/slow?${query}`])).results[0]?.status ?? null
  } finally {
    await proxy.stop()
  }
}

t.test('proxies: which forward 102s, what they add upstream, and Varnish answering 503 at the first one', async (t) => {
  if (!await needs(t, 'apache2') || !await needs(t, 'caddy') || !await needs(t, 'squid') || !await needs(t, 'varnishd', 'varnish') || !await needs(t, 'go', 'golang-go')) return
  // The raw peer: no peer table, and its proxy headers ignored ('nothing' vouches for every path).
  const off = { ...FAST, limit: 3, peers: [], behind: 'nothing' as const }
  // sent=3: the route answers only once its 3 102s went out, however busy the machine is.
  const probe = (start: typeof startApache) => throughProxy(off, start, undefined, async (p) => (await curl([`${p.origin}/slow?ms=400&sent=3`, `${p.origin}/slow?ms=400&sent=3`])).results)
  const [apache, caddy, squid, goProxy, varnish, varnishDefaults] = await Promise.all([
    probe(startApache), probe(startCaddy as typeof startApache), probe(startSquid as typeof startApache), probe(startGoProxy as typeof startApache),
    probe(startVarnish as typeof startApache),
    throughProxy(FAST, startVarnish, undefined, async (p) => (await curl([`${p.origin}/slow?ms=400`])).results)
  ])
  const upstream = (r: { body: string | null } | undefined): Record<string, string> => JSON.parse(r?.body ?? '{}').headers ?? {}
  for (const [name, results, forwards] of [['Apache', apache, true], ['Caddy', caddy, true], ['Squid', squid, true], ['Go ReverseProxy', goProxy, false]] as const) {
    t.same(results.map((r) => r.status), [200, 200], `${name}: both final responses`)
    t.same(results.map((r) => r.interims.length), forwards ? [3, 3] : [0, 0], `${name}: ${forwards ? 'forwards' : 'drops'} the 102s`)
  }
  t.same(recognised(upstream(apache[0])), ['Apache httpd mod_proxy_http'], 'Apache adds X-Forwarded-Server: recognised')
  t.match(upstream(squid[0]).via, /squid\/5\.7/, 'Squid adds Via: (squid/…)')
  t.same([...recognised(upstream(caddy[0])), ...recognised(upstream(goProxy[0])), ...recognised(upstream(squid[0]))], [], 'Caddy, Go and Squid: nothing that tells them apart')
  t.same(varnish.map((r) => r.status), [503, 503], 'Varnish 7.1: 503 "Backend fetch failed" at the first 102', { bodies: varnish.map((r) => r.body?.slice(0, 300)) })
  t.same(varnishDefaults.map((r) => [r.status, r.interims.length]), [[200, 0]], 'with the default peer table, X-Varnish means no 102, and a 200')
})

t.test('idle timeouts: a 102 resets Apache\'s and Caddy\'s upstream timers, not Squid\'s', async (t) => {
  if (!await needs(t, 'apache2') || !await needs(t, 'caddy') || !await needs(t, 'squid')) return
  // A 2.3 s handler behind a 1 s upstream timeout; the plugin sends a 102 every 400 ms (at most 5, Caddy's cap).
  const plugin = { threshold: 100, interval: 400, limit: 5, peers: [], behind: 'nothing' as const }
  const pair = async (start: (upstream: number, o?: never) => Promise<{ origin: string, stop: () => Promise<void> }>, options: unknown) => Promise.all([plugin, null].map((p) =>
    throughProxy(p, start as typeof startApache, options as never, async (proxy) => (await curl([`${proxy.origin}/slow?ms=2300`], { timeout: 10_000 })).results[0]?.status ?? null)))
  const [apache, caddy, squid] = await Promise.all([
    pair(startApache as never, { timeout: 1 }), pair(startCaddy as never, { readTimeout: '1s' }), pair(startSquid as never, { readTimeout: 1 })
  ])
  t.same(apache, [200, 502], 'Apache ProxyPass timeout=1: 200 with the plugin, 502 without')
  t.same(caddy, [200, 504], 'Caddy read_timeout 1s: 200 with the plugin, 504 without')
  t.equal(squid[0], squid[1], `Squid read_timeout 1 s: the same with and without (${squid.join(', ')}): 102s do not reset it`)
})

t.test("declaring Caddy or Go's ReverseProxy: `behind: 'caddy'` / `'go'` lets 5 102s through; claiming no proxy gets a 502", async (t) => {
  if (!await needs(t, 'caddy') || !await needs(t, 'go', 'golang-go')) return
  // A handler that would otherwise send 13 102s (1000 ms threshold, then one every 50 ms). Both proxies add
  // X-Forwarded-For, which alone names no proxy: by default the request gets none.
  const through = (behind: 'caddy' | 'go' | 'nothing' | undefined, start: typeof startApache) =>
    throughProxy({ interval: 50, ...(behind === undefined ? {} : { behind }) }, start, undefined,
      async (p) => (await curl([`${p.origin}/slow?ms=1600`], { timeout: 15_000 })).results[0])
  const caddy = startCaddy as typeof startApache
  const go = startGoProxy as typeof startApache
  const outcome = (r: { status: number | null, interims: number[] } | undefined) => [r?.status, r?.interims.length]
  const runs: Array<[Parameters<typeof through>[0], typeof startApache]> = [
    ['caddy', caddy], ['go', go], ['nothing', caddy], ['nothing', go], [undefined, caddy], [undefined, go]
  ]
  const results = await Promise.all(runs.map(([behind, start]) => through(behind, start)))
  const [caddyDeclared, goDeclared, caddyNothing, goNothing, caddyDefault, goDefault] = results
  t.same(outcome(caddyDeclared), [200, 5], "behind: 'caddy': 5 102s forwarded, then the 200")
  t.same(outcome(goDeclared), [200, 0], "behind: 'go': a 200 (Go's ReverseProxy drops the 102s it takes)")
  t.same([caddyNothing?.status, goNothing?.status], [502, 502], "behind: 'nothing' (a wrong declaration): the 6th 102 gets a 502")
  t.same([outcome(caddyDefault), outcome(goDefault)], [[200, 0], [200, 0]], 'default options: their X-Forwarded-For withholds every 102, and a 200')
})
