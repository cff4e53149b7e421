import type { FastifyBaseLogger } from 'fastify'
import { FST_PROCESSING_INTERVAL_PAST_TIMEOUT, FST_PROCESSING_MISSPELT, FST_PROCESSING_NEVER_BEFORE_DEADLINE, FST_PROCESSING_NO_DEADLINE, FST_PROCESSING_PAST_PROXY_DEADLINE, FST_PROCESSING_STOPS_BEFORE_DEADLINE, FST_PROCESSING_THRESHOLD_PAST_TIMEOUT, handlerTimeoutIs, logCode } from './errors.js'
import type { RouteSettings } from './options.js'

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
 * A route config key one or two typing mistakes away from `processing` (`procesing`, `Processing`) opts
 * nothing in, and Fastify accepts any key: said at startup, once per route.
 */
export function checkSpelling (config: object | undefined, route: string, log: FastifyBaseLogger): void {
  // Each registration's onRoute sees the route; the config object is the route's own.
  if (config === undefined || spelt.has(config)) return
  spelt.add(config)
  for (const key of Object.keys(config)) {
    if (key !== 'processing' && distance(key.toLowerCase(), 'processing') <= 2) {
      logCode(log, FST_PROCESSING_MISSPELT, { route, key }, route, key)
    }
  }
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
