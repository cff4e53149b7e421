import type { FastifyReply, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify'
import { interimHeaders, type InterimHeaders, type ProcessingHeaders } from './headers.js'
import type { ResolvedOptions, RouteOptions } from './options.js'
import type { PeerRule } from './peers.js'
import { Scheduler, Slot } from './scheduler.js'
import { transportFor, type Transport } from './transport.js'

/** Where a reply keeps its processing state (a reply decorator, so every reply has the same shape). */
export const kState = Symbol('fastify-processing.state')
/**
 * Where a route's config keeps the options `reply.processing()` uses on that route when it did not opt in:
 * set in onRoute by the innermost registration of the plugin, `null` when the route opted out.
 */
export const kManual = Symbol('fastify-processing.manual')

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

/** One request's 102s: how many went out, its place in the schedule, and whether it may get more. */
class RequestState extends Slot {
  sent = 0
  gate = UNDECIDED
  /** The most 102s this request may get: the route's `limit`, lowered for a peer that cannot take more. */
  limit: number
  /** Set once the final response starts or the connection closes: no automatic 102 after that. */
  stopped = false

  constructor (
    readonly request: FastifyRequest,
    readonly reply: FastifyReply,
    readonly options: ResolvedOptions & Partial<RouteOptions>,
    readonly transport: Transport
  ) {
    super()
    this.limit = options.limit
  }
}

function warnOnce (state: RequestState, err: unknown, message: string): void {
  const { options } = state
  if (options.warned) return
  options.warned = true
  state.request.log.warn({ err, route: options.route }, `fastify-processing: ${message} (logged once per route)`)
}

function matches (state: RequestState, peer: PeerRule): boolean {
  try {
    return peer.match(state.request) === true
  } catch (err) {
    // A rule that cannot decide is taken as a match: a peer row exists to hold 102s back.
    warnOnce(state, err, `peer rule "${peer.name}" threw, so it is taken as a match`)
    return true
  }
}

function decide (state: RequestState): boolean {
  const { options, request } = state
  if (options.requireExpect && !EXPECT_102.test(request.headers.expect ?? '')) return false
  for (const peer of options.peers) {
    if (peer.limit < state.limit && matches(state, peer)) {
      state.limit = peer.limit
      request.log.debug({ peer: peer.name, limit: peer.limit }, 'fastify-processing: known peer, 102s limited')
    }
  }
  if (state.limit <= state.sent) return false
  if (options.when === null) return true
  let allowed: unknown
  try {
    allowed = options.when(request)
  } catch (err) {
    warnOnce(state, err, '`when` threw, so this request gets no 102')
    return false
  }
  if (typeof allowed !== 'boolean') {
    // A promise is truthy: taken as a yes it would send 102s its author meant to refuse, and awaiting it
    // would let a 102 go out after the final response.
    warnOnce(state, undefined, `\`when\` must return true or false synchronously, returned ${typeof allowed === 'object' && allowed !== null ? allowed.constructor.name : typeof allowed}, so this request gets no 102`)
    return false
  }
  return allowed
}

/** Writes one 102 if every wire rule allows it; the single gate for automatic and manual 102s. */
function send (state: RequestState, headers: InterimHeaders, manual: boolean): boolean {
  const { reply, transport, request } = state
  if (state.sent >= state.limit || reply.sent || !transport.open(reply.raw) || !transport.received(request.raw)) {
    return false
  }
  // With a handlerTimeout, Fastify made the signal already (reading it costs nothing then); once it aborts,
  // the 503 is on its way, and a 102 now would only delay it.
  if (state.options.deadline !== undefined && state.options.deadline > 0 && request.signal.aborted) return false
  if (state.gate === UNDECIDED) state.gate = decide(state) ? ALLOWED : REFUSED
  if (state.gate === REFUSED || state.sent >= state.limit) return false
  transport.write(reply.raw, headers)
  state.sent++
  request.log.trace({ processingSent: state.sent, manual, headers: headers.map(([name]) => name) }, 'fastify-processing: 102 Processing sent')
  return true
}

function fire (slot: Slot): void {
  const state = slot as RequestState
  const { request, reply, transport, options } = state
  if (!transport.received(request.raw) && !reply.sent && transport.open(reply.raw)) {
    // A 102 promises the complete request was received: a slow upload gets its first one right after
    // its last byte. 'end' fires once the body is consumed, before the handler runs.
    request.raw.once('end', () => { if (!state.stopped) fire(state) })
    return
  }
  if (!send(state, NO_HEADERS, false) || state.sent >= state.limit) return
  // Counted from this write, not from when it was due: a peer's idle timer sees the gap between two 102s,
  // and that gap stays at the interval even when one wave of a burst ran slower than the next (counted
  // from the due time, it was off by the difference: p99 36-71 ms at 100,000 in bench/sim.js, 2-4 ms
  // this way). A burst's first wave stays spread over the time it took to write. The price: the schedule
  // as a whole slips by each write's lateness, about a millisecond a wave; and a 102 that ran late is
  // never followed by a catch-up burst.
  const now = performance.now()
  scheduler.add(state, options.interval, now + options.interval, now)
}

/** The one schedule of every waiting request in this process. */
export const scheduler = new Scheduler(fire)

function stop (state: RequestState): void {
  scheduler.remove(state)
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

/** Starts the automatic 102s of one request; exported for the scheduler's benchmarks. */
export function startProcessing (request: FastifyRequest, reply: FastifyReply, options: RouteOptions, transport: Transport): RequestState {
  const state = new RequestState(request, reply, options, transport)
  reply[kState] = state
  // The threshold counts from the request's arrival, which Fastify timed (elapsedTime) if anything asked
  // it to; otherwise from now, after the hooks that ran before this one.
  const now = performance.now()
  scheduler.add(state, options.threshold, now - reply.elapsedTime + options.threshold, now)
  // 'close' follows the end of every response, and every abort, error, timeout or hijacked reply that
  // ends: the one place that sees them all.
  const raw = reply.raw as typeof reply.raw & { [kResponseState]: RequestState }
  raw[kResponseState] = state
  raw.on('close', onResponseClose)
  return state
}

export { stop as stopProcessing }

/** The hooks of one opted-in route, made once when the route is declared. */
export function routeHooks (options: RouteOptions): { onRequest: onRequestHookHandler, onSend: onSendHookHandler } {
  return {
    onRequest (request, reply, done) {
      const transport = transportFor(request.raw)
      if (transport !== null) startProcessing(request, reply, options, transport)
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
      // A route that did not opt in: the options of the registration that saw it declared (the first
      // registration's for a route none saw), and no timer. One that opted out with `processing: false`
      // gets none: that is the switch for a path whose peers break on 102, and a helper deep in shared
      // code must not undo it.
      const options = (this.request.routeOptions.config as { [kManual]?: ResolvedOptions | null })[kManual]
      const transport = transportFor(this.request.raw)
      if (options === null || transport === null) return false
      state = this[kState] = new RequestState(this.request, this, options ?? defaults, transport)
    }
    if (!send(state, interim, true)) return false
    if (state.lane !== null) {
      scheduler.remove(state)
      const now = performance.now()
      scheduler.add(state, state.options.interval, now + state.options.interval, now)
    }
    return true
  }
}

/** `reply.processingSent`: how many 102s this request has been sent. */
export function sentCount (this: FastifyReply): number {
  return this[kState]?.sent ?? 0
}

export type { RequestState }
