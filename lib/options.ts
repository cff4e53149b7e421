import type { FastifyRequest } from 'fastify'
import { FST_PROCESSING_INVALID_OPTION, FST_PROCESSING_UNKNOWN_OPTION, describeValue } from './errors.js'
import { knownPaths, knownPeers, type PathName, type PeerRule } from './peers.js'
import { MAX_DELAY } from './scheduler.js'

/** "This request came through a path I vouch for": true lets 102s through, false sends none. */
export type PathRule = (request: FastifyRequest) => boolean

/** What stands in front of the app: a known proxy, `'nothing'`, a rule, or every hop of a chain. */
export type Behind = PathName | PathRule | ReadonlyArray<PathName | PathRule>

/** Options a route can set in `config.processing`, and the plugin can set as defaults. */
export interface ProcessingRouteOptions {
  /**
   * Milliseconds from the request's arrival to the first 102. Default 1000. Fastify times the arrival when
   * it has a logger, an `onResponse` hook or a `handlerTimeout`; otherwise it is counted from the route's
   * `onRequest` hooks.
   */
  threshold?: number
  /** Milliseconds between later 102s. Default 5000. */
  interval?: number
  /** Most 102s sent for one request, automatic and manual together; then the plugin stays silent. Default 100. */
  limit?: number
  /**
   * Most bytes of interim responses one request may get, status lines and headers together. Default
   * 16384: .NET counts every interim against the 64 KiB it allows the final response's headers.
   */
  interimBytes?: number
  /** Send 102s only to requests that carry `Expect: 102-processing`. Default false. */
  requireExpect?: boolean
  /**
   * Asked once per request, just before its first 102: return false and that request gets none.
   * It must answer synchronously with a boolean: an async function is refused at registration; one that
   * throws, or returns anything but `true` or `false`, counts as false, and is logged at `warn` once per route.
   */
  when?: (request: FastifyRequest) => boolean
  /**
   * Peers that mishandle 102s, recognised from the request, each with the most 102s it may get. Default
   * `knownPeers`; `[]` turns recognition off; `[...knownPeers, myRule]` extends it.
   */
  peers?: readonly PeerRule[]
  /**
   * What stands in front of the app. Headers can only lower what a request gets: undeclared (the default),
   * a request that shows signs of a proxy (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `Via`, …) gets no
   * 102, whichever proxy its headers look like, because nginx takes a 102 as the final response and can
   * send any proxy's headers. `'haproxy'`, `'cloudflare'`, `'traefik'`, `'squid'`, `'probed'` (measured
   * with `fastify-processing probe`) let them through; `'apache'` (9), `'caddy'` (5), `'go'` (5) and
   * `'envoy'` (1) cap them; `'nginx'`, `'kong'` and `'ingress-nginx'` send none, and silence the warning;
   * `'nothing'` says there is no proxy; a function decides per request; an array names every hop.
   */
  behind?: Behind
}

/** Options of `fastify.register(fastifyProcessing, options)`. */
export interface FastifyProcessingOptions extends ProcessingRouteOptions {
  /** Give every route processing unless its `config.processing` is `false`. Default false. */
  global?: boolean
  /** A probe endpoint that measures what the path in front of the app does with 102s. Off by default. */
  probe?: ProbeOptions
}

/** The probe endpoint's options: see the README, "Is my path safe?". */
export interface ProbeOptions {
  /** Where it answers, e.g. `'/.well-known/processing-probe'`. */
  path: string
  /** The secret a probe request carries in `x-probe-token`; at least 16 characters. */
  token: string
  /** Most interims one probe may ask for. Default 100. */
  maxCount?: number
  /** Longest time one probe may hold its request, in ms. Default 600000. */
  maxTime?: number
  /** Most probes at once. Default 4. */
  maxConcurrent?: number
}

/** One hop of a declared path: its name and the most 102s it passes, or a rule asked per request. */
export interface Hop {
  readonly name: string
  readonly limit: number
  /** A proxy that wants the final response within this many ms of the first 102 (Cloudflare), or 0. */
  readonly finalWithin: number
  readonly rule: PathRule | null
}

/**
 * A route's options, validated and merged with the plugin's once, at route declaration: everything one
 * request's 102s need. The plugin's defaults have the same shape.
 */
export interface RouteSettings {
  readonly threshold: number
  readonly interval: number
  readonly limit: number
  readonly interimBytes: number
  readonly requireExpect: boolean
  readonly when: ((request: FastifyRequest) => boolean) | null
  readonly peers: readonly PeerRule[]
  /** The declared path, or null when undeclared. */
  readonly behind: readonly Hop[] | null
  /** `METHOD /url`, for logs; `'*'` for the plugin's defaults. */
  readonly route: string
  /** The route's handlerTimeout where Fastify has one (>= 5.8), 0 otherwise: past it, `request.signal` aborts. */
  readonly handlerTimeout: number
}

const ROUTE_KEYS = ['threshold', 'interval', 'limit', 'interimBytes', 'requireExpect', 'when', 'peers', 'behind'] as const
/** Every option `register` takes: found straight in a route's config, one was put in the wrong place. */
export const PLUGIN_KEYS = [...ROUTE_KEYS, 'global', 'probe'] as const
// Fastify passes its own register options through to the plugin; they are not ours to refuse.
const FASTIFY_KEYS = ['prefix', 'logLevel', 'logSerializers']

const DEFAULTS: RouteSettings = {
  threshold: 1000,
  interval: 5000,
  limit: 100,
  interimBytes: 16384,
  requireExpect: false,
  when: null,
  peers: knownPeers,
  behind: null,
  route: '*',
  handlerTimeout: 0
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * An object of options (the plugin's, a route's `config.processing`, `probe`): a plain object whose every
 * key is known, or one of `ignored`; unknown keys are named with `prefix`.
 */
export function readOptionObject (where: string, name: string, value: unknown, expected: string, prefix: string, known: readonly string[], ignored: readonly string[] = []): Record<string, unknown> {
  if (!isPlainObject(value)) throw new FST_PROCESSING_INVALID_OPTION(where, name, expected, describeValue(value))
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && !ignored.includes(key)) throw new FST_PROCESSING_UNKNOWN_OPTION(where, prefix + key, known.join(', '))
  }
  return value
}

/** An integer from `min` to `max`, or the fallback when absent. */
export function readInteger (where: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new FST_PROCESSING_INVALID_OPTION(where, name, `an integer from ${min} to ${max}`, describeValue(value))
  }
  return value
}

function readFlag (where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new FST_PROCESSING_INVALID_OPTION(where, name, 'a boolean', describeValue(value))
  return value
}

// A promise is truthy: taken as a yes it would send 102s its author meant to refuse, and awaiting it
// would let a 102 go out after the final response.
function syncFunction (where: string, name: string, value: unknown, expected: string): void {
  if (typeof value !== 'function' || value.constructor.name === 'AsyncFunction') {
    throw new FST_PROCESSING_INVALID_OPTION(where, name, expected, describeValue(value))
  }
}

const PATH_NAMES = Object.keys(knownPaths).map((n) => `'${n}'`).join(', ')

function peerRules (where: string, name: string, value: unknown, fallback: readonly PeerRule[]): readonly PeerRule[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value)) throw new FST_PROCESSING_INVALID_OPTION(where, name, 'an array of peer rules', describeValue(value))
  value.forEach((rule: unknown, i) => {
    const ok = isPlainObject(rule) && typeof rule.name === 'string' && typeof rule.match === 'function' &&
      typeof rule.limit === 'number' && (Number.isInteger(rule.limit) || rule.limit === Infinity) && rule.limit >= 0 &&
      (rule.adds === undefined || (Array.isArray(rule.adds) && rule.adds.every((h) => typeof h === 'string'))) &&
      (rule.path === undefined || (typeof rule.path === 'string' && Object.hasOwn(knownPaths, rule.path)))
    if (!ok) {
      throw new FST_PROCESSING_INVALID_OPTION(where, `${name}[${i}]`, `{ name: string, match: (request) => boolean, limit: integer >= 0 or Infinity, adds?: string[], path?: one of ${PATH_NAMES} }`, describeValue(rule))
    }
  })
  return Object.freeze([...value])
}

function readBehind (where: string, name: string, value: unknown, fallback: readonly Hop[] | null): readonly Hop[] | null {
  if (value === undefined) return fallback
  const list: unknown[] = Array.isArray(value) ? value : [value]
  const expected = `one of ${PATH_NAMES}, a function (request) => boolean, or an array of them`
  if (list.length === 0) throw new FST_PROCESSING_INVALID_OPTION(where, name, expected, describeValue(value))
  return Object.freeze(list.map((hop, i): Hop => {
    const at = Array.isArray(value) ? `${name}[${i}]` : name
    if (typeof hop === 'string' && Object.hasOwn(knownPaths, hop)) {
      const known: { limit: number, finalWithin?: number } = knownPaths[hop as PathName]
      return { name: hop, limit: known.limit, finalWithin: known.finalWithin ?? 0, rule: null }
    }
    syncFunction(where, at, hop, expected)
    return { name: 'rule', limit: Infinity, finalWithin: 0, rule: hop as PathRule }
  }))
}

function merge (where: string, prefix: string, value: Record<string, unknown>, base: RouteSettings, route: string, handlerTimeout: number): RouteSettings {
  if (value.when !== undefined) syncFunction(where, prefix + 'when', value.when, 'a synchronous function (request) => boolean')
  return Object.freeze({
    threshold: readInteger(where, prefix + 'threshold', value.threshold, base.threshold, 1, MAX_DELAY),
    interval: readInteger(where, prefix + 'interval', value.interval, base.interval, 1, MAX_DELAY),
    limit: readInteger(where, prefix + 'limit', value.limit, base.limit, 1, Number.MAX_SAFE_INTEGER),
    interimBytes: readInteger(where, prefix + 'interimBytes', value.interimBytes, base.interimBytes, 64, Number.MAX_SAFE_INTEGER),
    requireExpect: readFlag(where, prefix + 'requireExpect', value.requireExpect, base.requireExpect),
    when: (value.when as RouteSettings['when'] | undefined) ?? base.when,
    peers: peerRules(where, prefix + 'peers', value.peers, base.peers),
    behind: readBehind(where, prefix + 'behind', value.behind, base.behind),
    route,
    handlerTimeout
  })
}

/** The plugin's options, validated: its defaults for every route, and whether every route opts in. */
export interface PluginOptions {
  readonly defaults: RouteSettings
  readonly global: boolean
}

/** Validates the options given to `register`; throws a coded TypeError naming the option and value. */
export function pluginOptions (options: unknown): PluginOptions {
  const where = 'fastify-processing options'
  // Fastify passes {} when register() gets no options.
  const given = readOptionObject(where, 'options', options, 'an object', '', PLUGIN_KEYS, FASTIFY_KEYS)
  return { defaults: merge(where, '', given, DEFAULTS, '*', 0), global: readFlag(where, 'global', given.global, false) }
}

/**
 * Resolves one route's `config.processing` against the plugin's options, once, at route declaration.
 * Returns null when the route does not take part, so that it carries no hook at all.
 */
export function routeOptions (plugin: PluginOptions, config: unknown, route: string, handlerTimeout = 0): RouteSettings | null {
  const where = `route ${route}`
  if (config === undefined) config = plugin.global
  if (config === false) return null
  if (config === true) return merge(where, '', {}, plugin.defaults, route, handlerTimeout)
  const given = readOptionObject(where, 'config.processing', config, 'true, false or an options object', 'config.processing.', ROUTE_KEYS)
  return merge(where, 'config.processing.', given, plugin.defaults, route, handlerTimeout)
}

/**
 * The options `reply.processing()` uses on a route: the route's own when it opted in, the plugin's
 * otherwise, and none when it opted out with `processing: false`: that is the switch for a path whose
 * peers break on 102, and a helper deep in shared code must not undo it.
 */
export function manualOptions (plugin: PluginOptions, config: unknown, resolved: RouteSettings | null, route: string, handlerTimeout: number): RouteSettings | null {
  if (resolved !== null) return resolved
  return config === false ? null : merge(`route ${route}`, '', {}, plugin.defaults, route, handlerTimeout)
}
