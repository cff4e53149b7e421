// Proves: with default options, peers that mishandle 102s end no worse than without the plugin.
import t from 'tap'
import { PYTHON, clientRun, startApache, startVarnish, throughProxy } from './atlas.js'
import { needs } from './needs.js'
import { curl } from './peers.js'

// First, do no harm: with the plugin's DEFAULT options, a request from a peer that mishandles 102s must
// end no worse than the same request without the plugin. Only `interval` is lowered, so that a 1.6 s
// handler passes each peer's cap (1000 ms threshold, then a 102 every 50 ms: 13 of them) within CI's time.
const DEFAULTS_FAST = { interval: 50 }
const MS = 1600

const outcome = (r: { status: number | null, ok: boolean, error: string | null } | undefined) => [r?.status, r?.ok, r?.error]

t.test('Java, Go, Python requests and urllib: the same final response with the plugin\'s defaults as without it', async (t) => {
  if (!await needs(t, 'java', 'openjdk-17-jdk-headless') || !await needs(t, 'go', 'golang-go') || !await needs(t, PYTHON, 'python3-requests')) return
  const clients = ['java', 'go', 'requests', 'urllib'] as const
  const runs = await Promise.all(clients.flatMap((name) => [DEFAULTS_FAST, null].map((plugin) => clientRun(name, plugin, { ms: MS, n: 1 }))))
  clients.forEach((name, i) => {
    const [withPlugin, without] = [runs[2 * i]!.responses[0], runs[2 * i + 1]!.responses[0]]
    t.same(outcome(withPlugin), outcome(without), `${name}: ${JSON.stringify(outcome(withPlugin))} with the plugin, as without it`)
    t.same(outcome(withPlugin), [200, true, null], `${name}: an intact 200`)
  })
  // And not by sending nothing to everyone: the peers that can take some 102s got them, up to their cap.
  t.same(clients.map((_, i) => runs[2 * i]!.responses[0]?.sent), [8, 5, 0, 0], 'Java got 8, Go 5, Python none')
})

t.test('behind Varnish and Apache: the same final response with the plugin\'s defaults as without it', async (t) => {
  if (!await needs(t, 'varnishd', 'varnish') || !await needs(t, 'apache2')) return
  const through = (plugin: { interval: number, behind?: 'apache' } | null, start: typeof startApache) =>
    throughProxy(plugin, start, undefined, async (p) => (await curl([`${p.origin}/slow?ms=${MS}`], { timeout: 15_000 })).results[0])
  const [varnish, varnishWithout, apache, apacheWithout, apacheDeclared] = await Promise.all([
    through(DEFAULTS_FAST, startVarnish as typeof startApache), through(null, startVarnish as typeof startApache),
    through(DEFAULTS_FAST, startApache), through(null, startApache),
    through({ ...DEFAULTS_FAST, behind: 'apache' }, startApache)
  ])
  t.same([varnish?.status, varnishWithout?.status], [200, 200], 'Varnish: 200 both ways (X-Varnish: no 102)')
  t.same([apache?.status, apacheWithout?.status], [200, 200], 'Apache: 200 both ways')
  t.equal(apache?.interims.length, 0, 'its headers alone (X-Forwarded-Server) unlock no 102')
  t.same([apacheDeclared?.status, apacheDeclared?.interims.length], [200, 9], "behind: 'apache': 9 102s reach the client, then the 200")
})
