import type { FastifyBaseLogger } from 'fastify'
import type { RouteOptions } from './options.js'

/** What the server's own settings say about a route's 102s. */
export interface ServerLimits {
  /** Fastify's `connectionTimeout`: the socket idle timeout; a written 102 resets it. 0 for none. */
  connectionTimeout: number
}

/** When the last 102 a route can send goes out, in ms from the request's arrival. */
export function lastProcessingAt (options: RouteOptions): number {
  return options.threshold + (options.limit - 1) * options.interval
}

/**
 * Options that validate but cannot work together with the server's settings, said once per route at
 * startup, with a code and the fix: otherwise they look like "the plugin does nothing".
 */
export function checkRoute (options: RouteOptions, server: ServerLimits, log: FastifyBaseLogger): void {
  const { route, threshold, interval, limit, deadline } = options
  const { connectionTimeout } = server
  if (connectionTimeout > 0 && threshold >= connectionTimeout) {
    log.warn({ code: 'FST_PROCESSING_THRESHOLD_PAST_TIMEOUT', route, threshold, connectionTimeout },
      `fastify-processing: route ${route} sends its first 102 after ${threshold} ms, but the server closes an idle connection after connectionTimeout ${connectionTimeout} ms: lower threshold below connectionTimeout`)
  } else if (connectionTimeout > 0 && limit > 1 && interval >= connectionTimeout) {
    log.warn({ code: 'FST_PROCESSING_INTERVAL_PAST_TIMEOUT', route, interval, connectionTimeout },
      `fastify-processing: route ${route} sends a 102 every ${interval} ms, but the server closes an idle connection after connectionTimeout ${connectionTimeout} ms: lower interval below connectionTimeout`)
  }
  if (deadline === 0) {
    log.info({ code: 'FST_PROCESSING_NO_DEADLINE', route, lastProcessingAt: lastProcessingAt(options) },
      `fastify-processing: route ${route} has no handlerTimeout, so its 102s can keep a client waiting as long as the handler runs (up to ${lastProcessingAt(options)} ms of 102s): set handlerTimeout (Fastify >= 5.8) to guarantee a final response`)
  } else if (threshold >= deadline) {
    log.warn({ code: 'FST_PROCESSING_NEVER_BEFORE_DEADLINE', route, threshold, handlerTimeout: deadline },
      `fastify-processing: route ${route} sends its first 102 after ${threshold} ms, at or after its handlerTimeout ${deadline} ms: it never sends one; lower threshold`)
  } else if (lastProcessingAt(options) + interval < deadline) {
    log.warn({ code: 'FST_PROCESSING_STOPS_BEFORE_DEADLINE', route, lastProcessingAt: lastProcessingAt(options), handlerTimeout: deadline },
      `fastify-processing: route ${route} sends its last 102 at ${lastProcessingAt(options)} ms, well before its handlerTimeout ${deadline} ms, so idle timers along the path can run out in between: raise limit or interval`)
  }
}
