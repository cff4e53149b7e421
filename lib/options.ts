import type { FastifyRequest } from 'fastify'
import { FST_PROCESSING_INVALID_OPTION, FST_PROCESSING_UNKNOWN_OPTION, show } from './errors.js'
import { knownPeers, type PeerRule } from './peers.js'

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
  /** Send 102s only to requests that carry `Expect: 102-processing`. Default false. */
  requireExpect?: boolean
  /**
   * Asked once per request, just before its first 102: return false and that request gets none.
   * It must answer synchronously with a boolean: a `when` that throws, or returns anything but `true` or
   * `false` (a promise, say), counts as false, and is logged at `warn` once per route.
   */
  when?: (request: FastifyRequest) => boolean
  /**
   * Peers that mishandle 102s, recognised from the request, each with the most 102s it may get. Default
   * `knownPeers`; `[]` turns recognition off; `[...knownPeers, myRule]` extends it.
   */
  peers?: readonly PeerRule[]
}

/** Options of `fastify.register(fastifyProcessing, options)`. */
export interface FastifyProcessingOptions extends ProcessingRouteOptions {
  /** Give every route processing unless its `config.processing` is `false`. Default false. */
  global?: boolean
}

/** The options of one route, validated and merged once, when the route is declared. */
export interface ResolvedOptions {
  readonly threshold: number
  readonly interval: number
  readonly limit: number
  readonly requireExpect: boolean
  readonly when: ((request: FastifyRequest) => boolean) | null
  readonly peers: readonly PeerRule[]
  /** Set after this route's `when` or a peer rule failed once, so the warning is not repeated for every request. */
  warned: boolean
}

/** A route's options, with what the route itself says about deadlines. */
export interface RouteOptions extends ResolvedOptions {
  /** `METHOD /url`, for logs. */
  readonly route: string
  /** The route's handlerTimeout (Fastify >= 5.8), 0 for none: past it, `request.signal` aborts. */
  readonly deadline: number
}

export interface PluginDefaults extends ResolvedOptions {
  readonly global: boolean
}

// Node clamps any timer delay above 2^31 - 1 ms to 1 ms (with only a warning): such a value would turn
// a "once a month" setting into a 102 every millisecond, so it is refused.
export const MAX_DELAY = 2 ** 31 - 1

const ROUTE_KEYS = ['threshold', 'interval', 'limit', 'requireExpect', 'when', 'peers'] as const
const PLUGIN_KEYS = [...ROUTE_KEYS, 'global'] as const
// Fastify passes its own register options through to the plugin; they are not ours to refuse.
const FASTIFY_KEYS = ['prefix', 'logLevel', 'logSerializers']

const DEFAULTS: PluginDefaults = {
  threshold: 1000,
  interval: 5000,
  limit: 100,
  requireExpect: false,
  when: null,
  peers: knownPeers,
  warned: false,
  global: false
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function checkKeys (where: string, prefix: string, value: Record<string, unknown>, known: readonly string[], ignored: readonly string[] = []): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key) && !ignored.includes(key)) throw new FST_PROCESSING_UNKNOWN_OPTION(where, prefix + key, known.join(', '))
  }
}

function milliseconds (where: string, name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new FST_PROCESSING_INVALID_OPTION(where, name, `an integer from 1 to ${max}`, show(value))
  }
  return value
}

function flag (where: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new FST_PROCESSING_INVALID_OPTION(where, name, 'a boolean', show(value))
  return value
}

function peerRules (where: string, name: string, value: unknown, fallback: readonly PeerRule[]): readonly PeerRule[] {
  if (value === undefined) return fallback
  if (!Array.isArray(value)) throw new FST_PROCESSING_INVALID_OPTION(where, name, 'an array of peer rules', show(value))
  value.forEach((rule: unknown, i) => {
    const ok = isPlainObject(rule) && typeof rule.name === 'string' && typeof rule.match === 'function' &&
      typeof rule.limit === 'number' && Number.isInteger(rule.limit) && rule.limit >= 0
    if (!ok) {
      throw new FST_PROCESSING_INVALID_OPTION(where, `${name}[${i}]`, '{ name: string, match: (request) => boolean, limit: integer >= 0, evidence: string }', show(rule))
    }
  })
  return Object.freeze([...value])
}

function merge (where: string, prefix: string, value: Record<string, unknown>, base: ResolvedOptions): ResolvedOptions {
  const when = value.when
  if (when !== undefined && typeof when !== 'function') {
    throw new FST_PROCESSING_INVALID_OPTION(where, prefix + 'when', 'a function (request) => boolean', show(when))
  }
  return {
    threshold: milliseconds(where, prefix + 'threshold', value.threshold, base.threshold, MAX_DELAY),
    interval: milliseconds(where, prefix + 'interval', value.interval, base.interval, MAX_DELAY),
    limit: milliseconds(where, prefix + 'limit', value.limit, base.limit, Number.MAX_SAFE_INTEGER),
    requireExpect: flag(where, prefix + 'requireExpect', value.requireExpect, base.requireExpect),
    when: (when as ResolvedOptions['when'] | undefined) ?? base.when,
    peers: peerRules(where, prefix + 'peers', value.peers, base.peers),
    warned: false
  }
}

/** Validates the options given to `register`; throws a coded TypeError naming the option and value. */
export function pluginOptions (options: unknown): PluginDefaults {
  const where = 'fastify-processing options'
  // Fastify passes {} when register() gets no options.
  if (!isPlainObject(options)) throw new FST_PROCESSING_INVALID_OPTION(where, 'options', 'an object', show(options))
  checkKeys(where, '', options, PLUGIN_KEYS, FASTIFY_KEYS)
  return { ...merge(where, '', options, DEFAULTS), global: flag(where, 'global', options.global, false) }
}

/**
 * Resolves one route's `config.processing` against the plugin's options, once, at route declaration.
 * Returns null when the route does not take part, so that it carries no hook at all.
 */
export function routeOptions (defaults: PluginDefaults, config: unknown, route: string, deadline = 0): RouteOptions | null {
  const where = `route ${route}`
  if (config === undefined) config = defaults.global
  if (config === false) return null
  if (config === true) return { ...merge(where, '', {}, defaults), route, deadline }
  if (!isPlainObject(config)) {
    throw new FST_PROCESSING_INVALID_OPTION(where, 'config.processing', 'true, false or an options object', show(config))
  }
  checkKeys(where, 'config.processing.', config, ROUTE_KEYS)
  return { ...merge(where, 'config.processing.', config, defaults), route, deadline }
}
