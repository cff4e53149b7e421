import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import type { WithheldMessage, SentMessage, WithheldReason } from './lib/channels.js'
import { checkDeclaration, checkEarlierRoutes, checkRoute } from './lib/checks.js'
import { claimRoute, kState, manualProcessing, release, sentCount, type RouteBox } from './lib/emitter.js'
import { FST_PROCESSING_ALREADY_REGISTERED } from './lib/errors.js'
import { acceptOnEveryServer, acceptProcessingExpectation } from './lib/expect.js'
import type { ProcessingHeaders } from './lib/headers.js'
import { probeOptions, probeRoute, type ResolvedProbe } from './lib/probe-endpoint.js'
import { manualOptions, pluginOptions, routeOptions, type Behind, type FastifyProcessingOptions, type PathRule, type ProbeOptions, type ProcessingRouteOptions, type RouteSettings } from './lib/options.js'

export { knownPaths, knownPeers, proxySigns, type PathName, type PeerRule } from './lib/peers.js'

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
     * rules and the plugin's policy allow it, and restarts the automatic interval. Returns whether it was
     * written. Throws (FST_PROCESSING_INVALID_HEADER) only for a header name that is not a token or frames
     * the connection, or a value that is not a string or number; a value with a character outside tab,
     * space, visible ASCII and bytes 0x80–0xff (Latin-1) leaves its header out of that 102, warned once
     * per route (FST_PROCESSING_HEADER_VALUE_DROPPED).
     */
    processing (headers?: ProcessingHeaders): boolean
    /** How many 102 Processing responses this request has been sent so far. */
    readonly processingSent: number
  }
}

const kRegistered = Symbol('fastify-processing.registered')

function fastifyProcessing (fastify: FastifyInstance, options: FastifyProcessingOptions, done: (err?: Error) => void): void {
  let settings
  let probe: ResolvedProbe | null
  try {
    // A context created by register() inherits its parent's properties; only its own say it registered.
    if (Object.hasOwn(fastify, kRegistered)) throw new FST_PROCESSING_ALREADY_REGISTERED()
    settings = pluginOptions(options)
    probe = probeOptions(options.probe)
  } catch (err) {
    done(err as Error)
    return
  }
  Object.defineProperty(fastify, kRegistered, { value: true })
  checkEarlierRoutes(fastify, fastify.log)
  acceptProcessingExpectation(fastify.server)
  // Fastify's extra servers for listen({ host: 'localhost' }) exist only once it listens.
  fastify.addHook('onListen', function (next) {
    acceptOnEveryServer(this)
    next()
  })
  if (!fastify.hasReplyDecorator('processing')) {
    fastify.decorateReply(kState, null)
    fastify.decorateReply('processing', manualProcessing(settings.defaults))
    fastify.decorateReply('processingSent', { getter: sentCount })
  }
  const config = fastify.initialConfig as { connectionTimeout: number, handlerTimeout?: number }
  // Fastify >= 5.8 has handlerTimeout, which aborts request.signal and answers 503; earlier versions
  // accept the option and ignore it, and have no request.signal to read.
  const hasHandlerTimeout = 'handlerTimeout' in config
  const seen: Array<{ box: RouteBox, resolved: RouteSettings }> = []
  fastify.addHook('onRoute', (route) => {
    const label = `${String(route.method)} ${route.url}`
    const handlerTimeout = hasHandlerTimeout ? route.handlerTimeout ?? config.handlerTimeout as number : 0
    const processing = route.config?.processing
    const resolved = routeOptions(settings, processing, label, handlerTimeout)
    const box = claimRoute(route, resolved, manualOptions(settings, processing, resolved, label, handlerTimeout))
    if (route.method !== 'HEAD') {
      checkDeclaration(route, label, fastify.log)
      if (resolved !== null) seen.push({ box, resolved })
    }
  })
  if (probe !== null) fastify.route(probeRoute(probe, settings.defaults))
  fastify.addHook('onReady', function (next) {
    // Skipped where a registration in a child context took the route over: it says its own.
    for (const { box, resolved } of seen) if (box.options === resolved) checkRoute(resolved, config, fastify.log)
    next()
  })
  fastify.addHook('onClose', function (_instance, next) {
    release()
    next()
  })
  done()
}

const plugin: FastifyPluginCallback<FastifyProcessingOptions> = fp(fastifyProcessing, { fastify: '5.x', name: 'fastify-processing' })
export { plugin as fastifyProcessing }
export default plugin
// `require('fastify-processing')` loads dist/index.cjs (cjs/), which returns the plugin itself.
export type { FastifyProcessingOptions, ProcessingRouteOptions, ProcessingHeaders, Behind, PathRule, ProbeOptions, SentMessage, WithheldMessage, WithheldReason }
