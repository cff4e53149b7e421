// Proves: any option object is either served cleanly or refused at startup with a coded TypeError.
import Fastify, { type FastifyInstance } from 'fastify'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import processing from '../../index.js'
import { prng } from '../stress/engine.js'

// Option fuzzing: random option objects at plugin level (`register(processing, options)`) and at route
// level (`config.processing`). Each one must either work, serving a real request over a socket without
// error, or be refused while the app is built, with a TypeError whose code starts with FST_PROCESSING_.
// An independent oracle (the documented rules, written here from the README's option table) says which,
// so a validator that is too lax or too strict fails too. FUZZ_SEED and FUZZ_RUNS replay or scale it.
const SEED = Number(process.env.FUZZ_SEED ?? 0x102f) >>> 0
// 5,000 at plugin level and 5,000 at route level: 10,000 option objects in all.
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000)
const BATCH = 250
const MAX_DELAY = 2 ** 31 - 1

type Rng = ReturnType<typeof prng>
type Options = Record<string, unknown>

class Klass {}
const NUMBERS = [
  0, -0, 1, -1, 2, 1.5, 0.1, -1.5, NaN, Infinity, -Infinity, MAX_DELAY, MAX_DELAY + 1, 2 ** 32,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.MAX_SAFE_INTEGER + 2, Number.MAX_VALUE, Number.MIN_VALUE,
  Number.EPSILON, 1e21, -1e-300, 1 + Number.EPSILON, 0x10, 1e3
]
const OTHERS: Array<() => unknown> = [
  () => '', () => '10', () => ' 5 ', () => 'abc', () => '1e3', () => 10n, () => true, () => false, () => null, () => undefined,
  () => ({}), () => [], () => [5], () => ({ valueOf: () => 5 }), () => Object.create(null), () => new Number(5), // eslint-disable-line no-new-wrappers
  () => new Date(0),
  () => Symbol('x'), () => new Map(), () => /5/, () => new Klass(), () => () => true, () => Klass
]
const WHENS: Array<() => unknown> = [
  () => () => true, () => () => false, () => () => 'yes', () => () => 1, () => () => { throw new Error('when failed') },
  () => async () => true, () => Klass, () => function (this: unknown) { return this === undefined },
  () => (request: { headers: Record<string, unknown> }) => request.headers['x-fuzz'] !== undefined
]
const EXTRA_KEYS = ['foo', 'Threshold', 'thresholds', 'LIMIT', 'constructor', 'toString', '', ' ', 'processing', '0']
const ROUTE_KEYS = ['threshold', 'interval', 'limit', 'requireExpect', 'when']
const PLUGIN_KEYS = [...ROUTE_KEYS, 'global']

function value (rng: Rng, key: string): unknown {
  const valid = rng.chance(0.6)
  switch (key) {
    case 'threshold': case 'interval':
      return valid ? rng.pick([rng.int(1, 30), rng.int(1, 30), MAX_DELAY, undefined]) : rng.chance(0.6) ? rng.pick(NUMBERS) : rng.pick(OTHERS)()
    case 'limit':
      return valid ? rng.pick([rng.int(1, 5), Number.MAX_SAFE_INTEGER, undefined]) : rng.chance(0.6) ? rng.pick(NUMBERS) : rng.pick(OTHERS)()
    case 'requireExpect': case 'global':
      return valid ? rng.pick([true, false, undefined]) : rng.pick(OTHERS)()
    case 'when':
      return valid ? rng.pick(WHENS)() : rng.chance(0.3) ? rng.pick(NUMBERS) : rng.pick(OTHERS)()
    default:
      return rng.chance(0.5) ? rng.pick(NUMBERS) : rng.pick(OTHERS)()
  }
}

/**
 * A random options object (or, now and then, something that is not one). At plugin level a function is
 * not drawn: Fastify calls a function given as register options with the instance (an options factory)
 * and passes its result on, so it never reaches the plugin as such.
 */
function options (rng: Rng, keys: string[], plugin = false): unknown {
  const r = rng.next()
  if (r < 0.06) {
    const v = rng.pick(OTHERS)()
    return plugin && typeof v === 'function' ? null : v
  }
  const out: Options = r < 0.1 ? Object.create(null) : {}
  for (const key of keys) if (rng.chance(0.45)) out[key] = value(rng, key)
  if (rng.chance(0.12)) out[rng.pick(EXTRA_KEYS)] = value(rng, '')
  // An own "__proto__" key, as JSON.parse makes it.
  if (rng.chance(0.02)) Object.defineProperty(out, '__proto__', { value: 5, enumerable: true })
  return out
}

function isPlainObject (v: unknown): v is Options {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** The documented rules, independently of lib/options.ts: does this configuration register? */
function oracle (v: unknown, keys: string[], allowed: string[] = []): boolean {
  if (!isPlainObject(v)) return false
  for (const key of Object.keys(v)) if (!keys.includes(key) && !allowed.includes(key)) return false
  const int = (x: unknown, max: number) => x === undefined || (typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= max)
  const bool = (x: unknown) => x === undefined || typeof x === 'boolean'
  return int(v.threshold, MAX_DELAY) && int(v.interval, MAX_DELAY) && int(v.limit, Number.MAX_SAFE_INTEGER) &&
    bool(v.requireExpect) && bool(v.global) &&
    (v.when === undefined || (typeof v.when === 'function' && v.when.constructor.name !== 'AsyncFunction'))
}

function describe (v: unknown): string {
  if (typeof v === 'symbol' || typeof v === 'bigint') return String(v)
  if (typeof v === 'function') return `[function ${v.name}]`
  if (v === null || typeof v !== 'object') return String(v)
  return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${describe(x)}`).join(', ')} }`
}

interface Outcome { worked: number, refused: number, requests: number, mismatches: string[], badErrors: string[], requestFailures: string[] }

function isCoded (err: unknown): boolean {
  const code: unknown = (err as { code?: unknown } | null)?.code
  return err instanceof TypeError && typeof code === 'string' && code.startsWith('FST_PROCESSING_')
}

/** An app whose logger collects every error-level line: none may appear while serving. */
function appWithErrorLog (): { app: FastifyInstance, errors: string[] } {
  const errors: string[] = []
  const stream = new Writable({
    write (chunk, _enc, done) {
      const line = JSON.parse(String(chunk))
      if (line.level >= 50) errors.push(line.msg + ' ' + (line.err?.message ?? ''))
      done()
    }
  })
  return { app: Fastify({ logger: { level: 'warn', stream } }), errors }
}

/**
 * Sends one real request to each route over a few keep-alive connections (Node's client: undici refuses
 * to send an Expect header); records anything but a clean 200.
 */
async function hit (app: FastifyInstance, routes: Array<{ path: string, body: string, expect: boolean }>, out: Outcome, errors: string[]): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const get = (path: string, headers: Record<string, string>) => new Promise<{ status: number, body: string }>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('no response in 10 s')))
    req.on('error', reject)
  })
  try {
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < routes.length) {
        const route = routes[next++]!
        try {
          const res = await get(route.path, route.expect ? { expect: '102-processing', 'x-fuzz': '1' } : {})
          out.requests++
          if (res.status !== 200 || res.body !== route.body) out.requestFailures.push(`${route.path}: ${res.status} ${res.body.slice(0, 200)}`)
        } catch (err) {
          out.requestFailures.push(`${route.path}: ${(err as Error).message}`)
        }
      }
    }))
  } finally {
    agent.destroy()
    await app.close()
  }
  for (const e of errors) out.requestFailures.push(`logged at error level: ${e}`)
}

function handler (rng: Rng, body: string) {
  const wait = rng.pick([0, 0, 1, 3, 8, 25])
  const manual = rng.chance(0.3)
  return async (_request: unknown, reply: { processing (h?: Record<string, string>): boolean }) => {
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    if (manual) reply.processing({ progress: 'fuzz' })
    return body
  }
}

// Any process warning (TimeoutOverflowWarning in particular) means an accepted option misbehaves; except
// the test runner's own: on Node >= 26 its TypeScript loader's module.register() call raises DEP0205 at
// startup, which reaches this listener. Told apart by where it was raised, not by Node's version.
const warnings: string[] = []
const RUNNER = /[\\/]node_modules[\\/](?:@tapjs|@isaacs[\\/]ts-node[^\\/]*)[\\/]/
process.on('warning', (w) => { if (!RUNNER.test(w.stack ?? '')) warnings.push(`${w.name}: ${w.message}`) })

/** The assertions both levels make on their outcome. */
function checkOutcome (t: Test, out: Outcome, where: string): void {
  t.same(out.badErrors, [], 'every refusal is a TypeError coded FST_PROCESSING_*' + where)
  t.same(out.mismatches, [], 'accepted exactly what the documented rules accept')
  t.same(out.requestFailures, [], 'no failure at request time')
  t.equal(out.worked + out.refused, RUNS)
  t.equal(out.requests, out.worked)
  t.ok(out.worked > RUNS / 5 && out.refused > RUNS / 5, 'both outcomes well represented')
}

t.test(`plugin-level options: ${RUNS} random objects (seed ${SEED})`, async (t) => {
  const rng = prng(SEED)
  const out: Outcome = { worked: 0, refused: 0, requests: 0, mismatches: [], badErrors: [], requestFailures: [] }
  for (let start = 0; start < RUNS; start += BATCH) {
    const { app, errors } = appWithErrorLog()
    const routes: Array<{ path: string, body: string, expect: boolean }> = []
    for (let i = start; i < Math.min(RUNS, start + BATCH); i++) {
      const opts = options(rng, PLUGIN_KEYS, true)
      // Fastify (avvio) hands a plugin `{}` for falsy register options: null, undefined, false, '', 0, NaN.
      const shouldWork = oracle(opts || {}, PLUGIN_KEYS, [])
      const routeConfig = rng.pick([true, undefined, {}])
      const h = handler(rng, `plugin ${i}`)
      const expect = rng.chance(0.5)
      // Every candidate in a child context of its own; the error, if any, is handled in after().
      app.register(async (child) => {
        child.register(processing, opts as never).after((err) => {
          if (err) {
            out.refused++
            if (!isCoded(err)) out.badErrors.push(`${describe(opts)}: ${(err as Error).name} ${(err as { code?: string }).code} ${(err as Error).message}`)
            if (shouldWork) out.mismatches.push(`refused, but the rules allow it: ${describe(opts)}: ${(err as Error).message}`)
            return
          }
          out.worked++
          if (!shouldWork) out.mismatches.push(`accepted, but the rules refuse it: ${describe(opts)}`)
          child.get(`/p${i}`, routeConfig === undefined ? {} : { config: { processing: routeConfig } }, h as never)
          routes.push({ path: `/p${i}`, body: `plugin ${i}`, expect })
        })
      })
    }
    await app.ready()
    await hit(app, routes, out, errors)
  }
  t.comment(`plugin level: ${out.worked} worked (${out.requests} requests served), ${out.refused} refused`)
  checkOutcome(t, out, '')
})

t.test(`route-level config.processing: ${RUNS} random values (seed ${SEED + 1})`, async (t) => {
  const rng = prng(SEED + 1)
  const out: Outcome = { worked: 0, refused: 0, requests: 0, mismatches: [], badErrors: [], requestFailures: [] }
  for (let start = 0; start < RUNS; start += BATCH * 4) {
    const { app, errors } = appWithErrorLog()
    const plugin = { threshold: rng.int(1, 10), interval: rng.int(1, 10), limit: rng.int(1, 4), global: rng.chance(0.5) }
    await app.register(processing, plugin)
    const routes: Array<{ path: string, body: string, expect: boolean }> = []
    for (let i = start; i < Math.min(RUNS, start + BATCH * 4); i++) {
      const r = rng.next()
      const config = r < 0.1 ? true : r < 0.15 ? false : r < 0.2 ? undefined : r < 0.7 ? options(rng, ROUTE_KEYS) : options(rng, PLUGIN_KEYS)
      const shouldWork = typeof config === 'boolean' || config === undefined || oracle(config, ROUTE_KEYS)
      const path = `/r${i}`
      try {
        app.get(path, config === undefined ? {} : { config: { processing: config as never } }, handler(rng, `route ${i}`) as never)
      } catch (err) {
        out.refused++
        if (!isCoded(err)) out.badErrors.push(`${describe(config)}: ${(err as Error).name} ${(err as { code?: string }).code} ${(err as Error).message}`)
        if (shouldWork) out.mismatches.push(`refused, but the rules allow it: ${describe(config)}: ${(err as Error).message}`)
        continue
      }
      out.worked++
      if (!shouldWork) out.mismatches.push(`accepted, but the rules refuse it: ${describe(config)}`)
      routes.push({ path, body: `route ${i}`, expect: rng.chance(0.5) })
    }
    await app.ready()
    await hit(app, routes, out, errors)
  }
  t.comment(`route level: ${out.worked} worked (${out.requests} requests served), ${out.refused} refused`)
  checkOutcome(t, out, ', thrown at route declaration')
})

t.test('no process warning while serving every accepted configuration', async (t) => {
  t.same([...new Set(warnings)].slice(0, 5), [], 'e.g. no TimeoutOverflowWarning (see timer-overflow.test.ts)')
})
