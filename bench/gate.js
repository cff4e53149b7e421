// The gate's share of a first 102: `decide()` timed alone, on real Fastify requests carrying each header
// set of bench/cost.js, with the options the plugin resolved for the route. dist/lib/gate.js is the one
// internal module a benchmark imports; the rest goes through the public API (the options are read from
// the route's config, where the plugin keeps them). Prints a markdown table.
//   npm run build && node bench/gate.js [--rounds=7] [--requests=2000]
import Fastify from 'fastify'
import processing from '../dist/index.js'
import { decide } from '../dist/lib/gate.js'
import { median } from './common.js'
import { HEADER_SETS } from './cost.js'

const arg = (name, value) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? value)
const [rounds, count, calls] = [arg('rounds', 7), arg('requests', 2000), 20]

const app = Fastify({ logger: false })
const requests = []
await app.register(async (scope) => {
  await scope.register(processing)
  const keep = (request) => { requests.push(request); return 'ok' }
  scope.get('/plugin', { config: { processing: true } }, keep)
  scope.get('/proxied', { config: { processing: { behind: 'probed' } } }, keep)
})
const optionsOf = (request) => {
  const config = request.routeOptions.config
  return config[Object.getOwnPropertySymbols(config).find((s) => s.description === 'fastify-processing.route')].options
}

const sets = {}
for (const [name, lines] of Object.entries(HEADER_SETS)) {
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
  requests.length = 0
  for (let i = 0; i < count; i++) await app.inject({ url: name === 'proxied' ? '/proxied' : '/plugin', headers })
  sets[name] = requests.map((request) => [request, optionsOf(request)])
}

const results = Object.fromEntries(Object.keys(sets).map((name) => [name, []]))
for (let r = 0; r < rounds; r++) {
  for (const [name, list] of Object.entries(sets)) {
    const t0 = process.cpuUsage()
    for (let k = 0; k < calls; k++) for (const [request, options] of list) decide(request, options)
    const t = process.cpuUsage(t0)
    results[name].push((t.user + t.system) / (calls * list.length))
  }
}
console.log('| headers | µs per decision, median (range) |\n|---|---|')
for (const [name, values] of Object.entries(results)) {
  console.log(`| ${name} | ${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}) |`)
}
