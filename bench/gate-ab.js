// The gate of two builds in one process, interleaved round by round: `decide()` of each checkout's dist/
// on the same header sets (a ratio between two processes would carry 20 % of machine noise).
//   node bench/gate-ab.js <checkout before> <checkout after>     (each built, with its node_modules)
import { HEADER_SETS } from './cost.js'
const [oldRoot, newRoot] = process.argv.slice(2).map((dir) => new URL(dir.endsWith('/') ? dir : dir + '/', `file://${process.cwd()}/`).href)
async function load (root) {
  const { default: Fastify } = await import(root + 'node_modules/fastify/fastify.js')
  const { default: processing } = await import(root + 'dist/index.js')
  const { decide } = await import(root + 'dist/lib/gate.js')
  const app = Fastify({ logger: false }); const requests = []
  await app.register(async (scope) => {
    await scope.register(processing)
    const keep = (request) => { requests.push(request); return 'ok' }
    scope.get('/plugin', { config: { processing: true } }, keep)
    scope.get('/proxied', { config: { processing: { behind: 'probed' } } }, keep)
  })
  const optionsOf = (request) => { const c = request.routeOptions.config; return c[Object.getOwnPropertySymbols(c).find((s) => s.description === 'fastify-processing.route')].options }
  const sets = {}
  for (const [name, lines] of Object.entries(HEADER_SETS)) {
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]))
    requests.length = 0
    for (let i = 0; i < 2000; i++) await app.inject({ url: name === 'proxied' ? '/proxied' : '/plugin', headers })
    sets[name] = requests.map((r) => [r, optionsOf(r)])
  }
  return { decide, sets }
}
const versions = { before: await load(oldRoot), after: await load(newRoot) }
const res = {}
for (let round = 0; round < 9; round++) {
  for (const name of Object.keys(HEADER_SETS)) {
    for (const v of (round % 2 ? ['after', 'before'] : ['before', 'after'])) {
      const { decide, sets } = versions[v]; const list = sets[name]
      const t0 = process.cpuUsage()
      for (let k = 0; k < 20; k++) for (const [r, o] of list) decide(r, o, true)
      const t = process.cpuUsage(t0)
      ;((res[name] ??= {})[v] ??= []).push({ us: (t.user + t.system) / (20 * list.length) })
    }
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1] }
console.log('| headers | before: µs per decision, median (range) | after | after ÷ before, median of rounds (range) |')
console.log('|---|---|---|---|')
for (const [name, r] of Object.entries(res)) {
  const b = r.before.map((x) => x.us); const a = r.after.map((x) => x.us)
  const ratio = a.map((x, i) => x / b[i])
  console.log(`| ${name} | ${med(b).toFixed(2)} (${Math.min(...b).toFixed(2)}–${Math.max(...b).toFixed(2)}) | ${med(a).toFixed(2)} (${Math.min(...a).toFixed(2)}–${Math.max(...a).toFixed(2)}) | ${med(ratio).toFixed(2)} (${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)}) |`)
}
