import type { FastifyBaseLogger } from 'fastify'
import type { Resolved } from './options.js'

/** What the server's own settings say about a route's 102s. */
export interface ServerLimits {
  /** Fastify's `connectionTimeout`: the socket idle timeout; a written 102 resets it. 0 for none. */
  connectionTimeout: number
}

/** When the last 102 a route can send goes out, in ms from the request's arrival. */
export function lastProcessingAt (options: Resolved): number {
  return options.threshold + (options.limit - 1) * options.interval
}

type Problem = [level: 'warn' | 'debug', code: string, fields: Record<string, unknown>, advice: string]

// The first problem is the one to fix: a threshold past the handlerTimeout also stops "before" it, and
// saying both would be two lines for one mistake.
function firstProblem (options: Resolved, server: ServerLimits): Problem | null {
  const { route, threshold, interval, limit, deadline } = options
  const { connectionTimeout } = server
  const last = lastProcessingAt(options)
  if (deadline > 0 && threshold >= deadline) {
    return ['warn', 'FST_PROCESSING_NEVER_BEFORE_DEADLINE', { threshold, handlerTimeout: deadline },
      `route ${route} sends its first 102 after ${threshold} ms, at or after its handlerTimeout ${deadline} ms: it never sends one; lower threshold`]
  }
  if (connectionTimeout > 0 && threshold >= connectionTimeout) {
    return ['warn', 'FST_PROCESSING_THRESHOLD_PAST_TIMEOUT', { threshold, connectionTimeout },
      `route ${route} sends its first 102 after ${threshold} ms, but the server closes an idle connection after connectionTimeout ${connectionTimeout} ms: lower threshold below connectionTimeout`]
  }
  if (connectionTimeout > 0 && limit > 1 && interval >= connectionTimeout) {
    return ['warn', 'FST_PROCESSING_INTERVAL_PAST_TIMEOUT', { interval, connectionTimeout },
      `route ${route} sends a 102 every ${interval} ms, but the server closes an idle connection after connectionTimeout ${connectionTimeout} ms: lower interval below connectionTimeout`]
  }
  const cloud = options.behind?.find((hop) => hop.finalWithin > 0)
  if (cloud !== undefined && (deadline === 0 || deadline > threshold + cloud.finalWithin)) {
    return ['warn', 'FST_PROCESSING_PAST_PROXY_DEADLINE', { behind: cloud.name, handlerTimeout: deadline },
      `route ${route} is behind ${cloud.name}, which wants the final response within ${cloud.finalWithin} ms of the first 102, but ${deadline === 0 ? 'the route has no handlerTimeout' : `its handlerTimeout is ${deadline} ms`}: set handlerTimeout to at most ${threshold + cloud.finalWithin} ms`]
  }
  if (deadline > 0 && last + interval < deadline) {
    return ['warn', 'FST_PROCESSING_STOPS_BEFORE_DEADLINE', { lastProcessingAt: last, handlerTimeout: deadline },
      `route ${route} sends its last 102 at ${last} ms, well before its handlerTimeout ${deadline} ms, so idle timers along the path can run out in between: raise limit or interval`]
  }
  if (deadline === 0) {
    // Not a mistake on Fastify before 5.8, which has no handlerTimeout: a debug line, not a warning.
    return ['debug', 'FST_PROCESSING_NO_DEADLINE', { lastProcessingAt: last },
      `route ${route} has no handlerTimeout, so its 102s can keep a client waiting as long as the handler runs (up to ${last} ms of 102s): set handlerTimeout (Fastify >= 5.8) to guarantee a final response`]
  }
  return null
}

/**
 * Options that validate but cannot work together with the server's settings, said once per route at
 * startup, with a code and the fix: otherwise they look like "the plugin does nothing".
 */
export function checkRoute (options: Resolved, server: ServerLimits, log: FastifyBaseLogger): void {
  const problem = firstProblem(options, server)
  if (problem === null) return
  const [level, code, fields, advice] = problem
  log[level]({ code, route: options.route, ...fields }, `fastify-processing: ${advice}`)
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
      log.warn({ code: 'FST_PROCESSING_MISSPELT', route, key },
        `fastify-processing: route ${route} has config.${key}, which is not an option; did you mean config.processing?`)
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
