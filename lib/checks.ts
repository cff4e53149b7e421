import type { FastifyBaseLogger, FastifyInstance, RouteOptions } from 'fastify'
import { describeValue, FST_PROCESSING_INTERVAL_PAST_TIMEOUT, FST_PROCESSING_MISSPELT, FST_PROCESSING_NEVER_BEFORE_DEADLINE, FST_PROCESSING_NO_DEADLINE, FST_PROCESSING_OPTION_IN_CONFIG, FST_PROCESSING_PAST_PROXY_DEADLINE, FST_PROCESSING_ROUTE_OPTION, FST_PROCESSING_ROUTES_BEFORE, FST_PROCESSING_STOPS_BEFORE_DEADLINE, FST_PROCESSING_THRESHOLD_PAST_TIMEOUT, handlerTimeoutIs, logCode } from './errors.js'
import { PLUGIN_KEYS, type RouteSettings } from './options.js'

/** What the server's own settings say about a route's 102s. */
export interface ServerLimits {
  /** Fastify's `connectionTimeout`: the socket idle timeout; a written 102 resets it. 0 for none. */
  connectionTimeout: number
}

/** When the last 102 a route can send goes out, in ms from the request's arrival. */
export function lastProcessingAt (options: RouteSettings): number {
  return options.threshold + (options.limit - 1) * options.interval
}

/**
 * Options that validate but cannot work together with the server's settings, said once per route at
 * startup, with a code and the fix: otherwise they look like "the plugin does nothing". Only the first
 * problem is said, the one to fix: a threshold past the handlerTimeout also stops "before" it, and saying
 * both would be two lines for one mistake.
 */
export function checkRoute (options: RouteSettings, server: ServerLimits, log: FastifyBaseLogger): void {
  const { route, threshold, interval, limit, handlerTimeout } = options
  const { connectionTimeout } = server
  // Declared to let none through (`behind: 'nginx'`): no 102, so no timing of one to advise on.
  if (options.behind?.some((hop) => hop.limit === 0) === true) return
  const last = lastProcessingAt(options)
  if (handlerTimeout > 0 && threshold >= handlerTimeout) {
    return logCode(log, FST_PROCESSING_NEVER_BEFORE_DEADLINE, { route, threshold, handlerTimeout }, route, threshold, handlerTimeout)
  }
  if (connectionTimeout > 0 && threshold >= connectionTimeout) {
    return logCode(log, FST_PROCESSING_THRESHOLD_PAST_TIMEOUT, { route, threshold, connectionTimeout }, route, threshold, connectionTimeout)
  }
  if (connectionTimeout > 0 && limit > 1 && interval >= connectionTimeout) {
    return logCode(log, FST_PROCESSING_INTERVAL_PAST_TIMEOUT, { route, interval, connectionTimeout }, route, interval, connectionTimeout)
  }
  const cloud = options.behind?.find((hop) => hop.finalWithin > 0)
  if (cloud !== undefined && (handlerTimeout === 0 || handlerTimeout > threshold + cloud.finalWithin)) {
    return logCode(log, FST_PROCESSING_PAST_PROXY_DEADLINE, { route, behind: cloud.name, handlerTimeout },
      route, cloud.name, cloud.finalWithin, handlerTimeoutIs(handlerTimeout), threshold + cloud.finalWithin)
  }
  if (handlerTimeout > 0 && last + interval < handlerTimeout) {
    return logCode(log, FST_PROCESSING_STOPS_BEFORE_DEADLINE, { route, lastProcessingAt: last, handlerTimeout }, route, last, handlerTimeout)
  }
  if (handlerTimeout === 0) {
    // Not a mistake on Fastify before 5.8, which has no handlerTimeout: a debug line, not a warning.
    logCode(log, FST_PROCESSING_NO_DEADLINE, { route, lastProcessingAt: last }, route, last)
  }
}

/**
 * Mistakes in a route's declaration that opt nothing in, and that Fastify accepts without a word: a config
 * key one or two typing mistakes away from `processing` (`procesing`, `Processing`), `processing` given as
 * a route option (as `@fastify/websocket` takes `websocket: true`) instead of in `config`, and plugin
 * options put straight into `config`. Said at startup, once per route.
 */
export function checkDeclaration (route: RouteOptions, label: string, log: FastifyBaseLogger): void {
  // Each registration's onRoute sees the route; the config object is the route's own.
  const config = route.config as object | undefined
  if (config === undefined || spelt.has(config)) return
  spelt.add(config)
  if ('processing' in route) {
    logCode(log, FST_PROCESSING_ROUTE_OPTION, { route: label }, label, describeValue((route as { processing?: unknown }).processing))
  }
  for (const key of Object.keys(config)) {
    if (key !== 'processing' && distance(key.toLowerCase(), 'processing') <= 2) {
      logCode(log, FST_PROCESSING_MISSPELT, { route: label, key }, label, key)
    }
  }
  const misplaced = Object.keys(config).filter((key) => (PLUGIN_KEYS as readonly string[]).includes(key))
  if (misplaced.length > 0) {
    const moved = misplaced.map((key) => `${key}: ${describeValue((config as Record<string, unknown>)[key])}`).join(', ')
    logCode(log, FST_PROCESSING_OPTION_IN_CONFIG, { route: label, keys: misplaced }, label, misplaced.map((key) => `config.${key}`).join(', '), moved)
  }
}

/**
 * Routes declared before the plugin was registered: onRoute never sees them, so they get no 102s whatever
 * their config says (common in CommonJS, where `fastify.register()` without `await` runs after the routes
 * below it). Fastify shows no route's config, but printRoutes() lists every route that exists when the
 * plugin runs. Said by a registration in the root context only: one in a child context is meant for the
 * routes declared after it there, and the app's other routes are none of its business. Fastify makes
 * each child context with Object.create(parent); fastify-plugin keeps the registering one.
 */
export function checkEarlierRoutes (fastify: FastifyInstance, log: FastifyBaseLogger): void {
  if (Object.getPrototypeOf(fastify) !== Object.prototype) return
  const routes = routesIn(fastify.printRoutes({ commonPrefix: false }))
  if (routes.length === 0) return
  const shown = routes.slice(0, 5).join(', ') + (routes.length > 5 ? `, and ${routes.length - 5} more` : '')
  logCode(log, FST_PROCESSING_ROUTES_BEFORE, { routes: routes.length }, routes.length, shown)
}

/**
 * `METHOD /path` for each route of a printRoutes({ commonPrefix: false }) tree, HEAD routes aside (Fastify
 * adds one per GET). Each line is `<indent>├── <segment> (<methods>)`, its segment relative to the line
 * above it one level up; an indent level is four characters.
 */
function routesIn (tree: string): string[] {
  const stack: string[] = []
  const out: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (.*) \(([A-Z, ]+)\)$/.exec(line)
    if (match === null) continue
    const depth = (match[1] as string).length / 4
    stack.length = depth
    stack.push(match[2] as string)
    const path = stack.join('')
    for (const method of (match[3] as string).split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`)
  }
  return out
}

const spelt = new WeakSet<object>()

function distance (a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length] as number
}
