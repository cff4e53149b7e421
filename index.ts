import type { FastifyPluginCallback, RouteOptions as RouteOptionsOf } from 'fastify'
import fp from 'fastify-plugin'
import { checkRoute } from './lib/checks.js'
import { kManual, kState, manualProcessing, routeHooks, sentCount } from './lib/emitter.js'
import { acceptOnEveryServer, acceptProcessingExpectation } from './lib/expect.js'
import type { ProcessingHeaders } from './lib/headers.js'
import { pluginOptions, routeOptions, type FastifyProcessingOptions, type ProcessingRouteOptions, type RouteOptions } from './lib/options.js'

export { knownPeers, type PeerRule } from './lib/peers.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Send 102 Processing while this route works: `true` for the plugin's options, an object to override
     * some of them, `false` to opt out when the plugin is registered with `global: true`.
     */
    // `& object`: Fastify infers a route's config type from the literal and intersects it with this one;
    // without it, `processing: 'yes'` would type-check as `'yes' & ProcessingRouteOptions`.
    processing?: boolean | (ProcessingRouteOptions & object)
  }
  interface FastifyReply {
    /**
     * Sends one 102 Processing now, with optional headers (e.g. `{ progress: '42/100' }`), if the wire
     * rules allow it, and restarts the automatic interval. Returns whether it was written; throws only
     * for invalid headers (FST_PROCESSING_INVALID_HEADER).
     */
    processing (headers?: ProcessingHeaders): boolean
    /** How many 102 Processing responses this request has been sent so far. */
    readonly processingSent: number
  }
}

type Hook = (...args: never[]) => unknown

// The hooks this plugin put on routes: a registration in a child context replaces its parent's on the
// routes declared there, so that the innermost options win and no route gets two emitters.
const ours = new WeakSet<Hook>()

function withHook<T extends Hook> (hooks: T | T[] | undefined, hook: T | null): T | T[] | undefined {
  const list = hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]
  const kept = list.filter((h) => !ours.has(h))
  // A route this plugin does not touch keeps its hooks exactly as they were declared.
  if (hook === null && kept.length === list.length) return hooks
  if (hook !== null) {
    ours.add(hook)
    kept.push(hook)
  }
  return kept
}

const plugin: FastifyPluginCallback<FastifyProcessingOptions> = (fastify, options, done) => {
  let defaults
  try {
    defaults = pluginOptions(options)
  } catch (err) {
    done(err as Error)
    return
  }
  acceptProcessingExpectation(fastify.server)
  // Fastify's extra servers for listen({ host: 'localhost' }) exist only once it listens.
  fastify.addHook('onListen', function (next) {
    acceptOnEveryServer(this)
    next()
  })
  if (!fastify.hasReplyDecorator('processing')) {
    fastify.decorateReply(kState, null)
    fastify.decorateReply('processing', manualProcessing(defaults))
    fastify.decorateReply('processingSent', { getter: sentCount })
  }
  const config = fastify.initialConfig as { connectionTimeout: number, handlerTimeout?: number }
  const seen: Array<{ route: RouteOptionsOf, resolved: RouteOptions }> = []
  fastify.addHook('onRoute', (route) => {
    const label = `${String(route.method)} ${route.url}`
    // Fastify >= 5.8: a handlerTimeout aborts request.signal and answers 503; earlier versions have none.
    const deadline = route.handlerTimeout ?? config.handlerTimeout ?? 0
    const resolved = routeOptions(defaults, route.config?.processing, label, deadline)
    const hooks = resolved === null ? null : routeHooks(resolved)
    route.onRequest = withHook(route.onRequest, hooks?.onRequest ?? null)
    route.onSend = withHook(route.onSend, hooks?.onSend ?? null)
    const manual = resolved ?? (route.config?.processing === false ? null : { ...defaults, route: label, deadline })
    route.config = { ...route.config, [kManual]: manual } as typeof route.config
    if (resolved !== null && route.method !== 'HEAD') seen.push({ route, resolved })
  })
  fastify.addHook('onReady', function (next) {
    for (const { route, resolved } of seen) {
      // Skipped where a registration in a child context took the route over: it says its own.
      if ((route.config as Record<symbol, unknown>)[kManual] === resolved) {
        checkRoute(resolved, config, fastify.log)
      }
    }
    next()
  })
  done()
}

export const fastifyProcessing = fp(plugin, { fastify: '5.x', name: 'fastify-processing' })
export default fastifyProcessing
// `require('fastify-processing')` loads dist/index.cjs (cjs/), which returns the plugin itself.
export type { FastifyProcessingOptions, ProcessingRouteOptions, ProcessingHeaders }
