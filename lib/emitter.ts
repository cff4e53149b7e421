import type { FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify'
import { interimHeaders, type InterimHeaders, type ProcessingHeaders } from './headers.js'
import { MAX_DELAY, type ResolvedOptions } from './options.js'
import { transportFor, type Transport } from './transport.js'

/** Where a reply keeps its processing state (a reply decorator, so every reply has the same shape). */
export const kState = Symbol('fastify-processing.state')

declare module 'fastify' {
  interface FastifyReply {
    [kState]: RequestState | null
  }
}

const UNDECIDED = 0
const ALLOWED = 1
const REFUSED = 2

const NO_HEADERS: InterimHeaders = []
const EXPECT_102 = /(?:^|,)\s*102-processing\s*(?:,|$)/i

/** One request's 102s: how many went out, and the timer for the next one. */
class RequestState {
  sent = 0
  timer: NodeJS.Timeout | null = null
  /** When the next automatic 102 is due, on the performance.now() clock; drift is corrected against it. */
  due = 0
  gate = UNDECIDED
  /** Set once the final response starts or the connection closes: no automatic 102 after that. */
  stopped = false

  constructor (
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
    readonly options: ResolvedOptions,
    readonly transport: Transport
  ) {}
}

function decide (state: RequestState): boolean {
  const { options, request } = state
  if (options.requireExpect && !EXPECT_102.test(request.headers.expect ?? '')) return false
  if (options.when === null) return true
  try {
    return options.when(request) === true
  } catch (err) {
    if (!options.whenFailed) {
      options.whenFailed = true
      request.log.warn({ err }, 'fastify-processing: `when` threw, so this request gets no 102 (logged once per route)')
    }
    return false
  }
}

/** Writes one 102 if every wire rule allows it; the single gate for automatic and manual 102s. */
function send (state: RequestState, headers: InterimHeaders): boolean {
  const { reply, transport } = state
  if (state.sent >= state.options.limit || reply.sent || !transport.open(reply.raw) || !transport.received(state.request.raw)) {
    return false
  }
  if (state.gate === UNDECIDED) state.gate = decide(state) ? ALLOWED : REFUSED
  if (state.gate === REFUSED) return false
  transport.write(reply.raw, headers)
  state.sent++
  state.request.log.trace({ processingSent: state.sent }, 'fastify-processing: 102 Processing sent')
  return true
}

function arm (state: RequestState, due: number): void {
  state.due = due
  // setTimeout + unref (not setInterval): a timer never holds the process open, and a tick that runs
  // late does not pile up behind others. The delay is measured against `due`, so lateness does not
  // accumulate from one 102 to the next.
  // A timer fires on libuv's millisecond clock, which can run up to 1 ms ahead of performance.now(),
  // so `due - now` can exceed the interval by a fraction: capped, or 2^31 - 1 would overflow to 1 ms.
  state.timer = setTimeout(tick, Math.min(MAX_DELAY, Math.max(1, due - performance.now())), state).unref()
}

function tick (state: RequestState): void {
  state.timer = null
  const { request, reply, transport } = state
  if (!transport.received(request.raw) && !reply.sent && transport.open(reply.raw)) {
    // A 102 promises the complete request was received: a slow upload gets its first one right after
    // its last byte. 'end' fires once the body is consumed, before the handler runs.
    request.raw.once('end', () => { if (!state.stopped) tick(state) })
    return
  }
  if (!send(state, NO_HEADERS) || state.sent >= state.options.limit) return
  const next = state.due + state.options.interval
  arm(state, next > performance.now() ? next : performance.now() + state.options.interval)
}

function stop (state: RequestState): void {
  if (state.timer !== null) clearTimeout(state.timer)
  state.timer = null
  state.stopped = true
}

/** Where the raw response points back to its state, for the one shared 'close' listener. */
const kResponseState = Symbol('fastify-processing.response-state')

// One function for every response, instead of a closure (plus once()'s wrapper) per request: the
// listener is most of what a waiting request costs in memory (see BENCHMARKS.md).
function onResponseClose (this: { [kResponseState]: RequestState }): void {
  const state = this[kResponseState]
  stop(state)
  state.request.log.debug({ processingSent: state.sent }, 'fastify-processing: response closed')
}

/** The hooks of one opted-in route, made once when the route is declared. */
export function routeHooks (options: ResolvedOptions): { onRequest: onRequestHookHandler, onSend: onSendHookHandler } {
  return {
    onRequest (request, reply, done) {
      const transport = transportFor(request.raw)
      if (transport !== null) {
        const state = new RequestState(request, reply, options, transport)
        reply[kState] = state
        arm(state, performance.now() + options.threshold)
        // 'close' follows the end of every response, and every abort, error, timeout or hijacked
        // reply that ends: the one place that sees them all.
        const raw = reply.raw as typeof reply.raw & { [kResponseState]: RequestState }
        raw[kResponseState] = state
        raw.on('close', onResponseClose)
      }
      done()
    },
    onSend (_request, reply, payload, done) {
      const state = reply[kState]
      if (state !== null) stop(state)
      done(null, payload)
    }
  }
}

/** `reply.processing(headers?)`: one 102 now, under the same rules as the automatic ones. */
export function manualProcessing (defaults: ResolvedOptions): (this: FastifyReply, headers?: ProcessingHeaders) => boolean {
  return function processing (this: FastifyReply, headers?: ProcessingHeaders): boolean {
    const interim = headers === undefined ? NO_HEADERS : interimHeaders(headers)
    let state = this[kState]
    if (state === null) {
      // A route that did not opt in: the plugin's options apply, and no timer is started.
      const transport = transportFor(this.request.raw)
      if (transport === null) return false
      state = this[kState] = new RequestState(this.request, this, defaults, transport)
    }
    if (!send(state, interim)) return false
    if (state.timer !== null) {
      clearTimeout(state.timer)
      arm(state, performance.now() + state.options.interval)
    }
    return true
  }
}

/** `reply.processingSent`: how many 102s this request has been sent. */
export function sentCount (this: FastifyReply): number {
  return this[kState]?.sent ?? 0
}

export type { RequestState }
