import type { FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { kState, manualProcessing, routeHooks, sentCount } from './lib/emitter.js'
import { acceptProcessingExpectation } from './lib/expect.js'
import type { ProcessingHeaders } from './lib/headers.js'
import { pluginOptions, routeOptions, type FastifyProcessingOptions, type ProcessingRouteOptions } from './lib/options.js'

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

function append<T extends Hook> (hooks: T | T[] | undefined, hook: T): T[] {
  if (hooks === undefined) return [hook]
  return Array.isArray(hooks) ? [...hooks, hook] : [hooks, hook]
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
  fastify.decorateReply(kState, null)
  fastify.decorateReply('processing', manualProcessing(defaults))
  fastify.decorateReply('processingSent', { getter: sentCount })
  fastify.addHook('onRoute', (route) => {
    const resolved = routeOptions(defaults, route.config?.processing, `${String(route.method)} ${route.url}`)
    if (resolved === null) return
    const { onRequest, onSend } = routeHooks(resolved)
    route.onRequest = append(route.onRequest, onRequest)
    route.onSend = append(route.onSend, onSend)
  })
  done()
}

export const fastifyProcessing = fp(plugin, { fastify: '5.x', name: 'fastify-processing' })
export default fastifyProcessing
// `require('fastify-processing')` (Node >= 20.19 loads this ES module synchronously) returns the plugin
// itself, like a CommonJS Fastify plugin, instead of a namespace object.
export { fastifyProcessing as 'module.exports' }
export type { FastifyProcessingOptions, ProcessingRouteOptions, ProcessingHeaders }
