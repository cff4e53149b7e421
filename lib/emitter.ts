// Imported, not the global: the global is a lazy getter, read on every request.
import { performance } from 'node:perf_hooks'
import type { FastifyBaseLogger, FastifyReply, onRequestHookHandler, onSendHookHandler, RouteOptions } from 'fastify'
import { sentChannel, withheldChannel, type SentMessage, type WithheldMessage, type WithheldReason } from './channels.js'
import { decide } from './gate.js'
import { FST_PROCESSING_HEADER_VALUE_DROPPED, logCode } from './errors.js'
import { interimHeaders, type InterimHeaders, type ProcessingHeaders } from './headers.js'
import type { RouteSettings } from './options.js'
import { Scheduler, Slot } from './scheduler.js'
import { switching, transportFor, type Transport } from './transport.js'

/** Where a reply keeps its processing state (a reply decorator, so every reply has the same shape). */
export const kState = Symbol('fastify-processing.state')
/** Where a route's config keeps its box: the options its hooks and `reply.processing()` use. */
export const kRoute = Symbol('fastify-processing.route')

declare module 'fastify' {
  interface FastifyReply {
    [kState]: RequestState | null
  }
}

/**
 * One route's options, read by its hooks on every request. A registration in a child context replaces
 * what the box holds instead of the hooks, so the innermost registration wins even when another plugin
 * wrapped the hooks (tracing plugins do, in onRoute), and a route never runs two emitters.
 */
export interface RouteBox {
  /** The automatic 102s' options; null when the route does not take part. */
  options: RouteSettings | null
  /** `reply.processing()`'s options; null when the route opted out with `processing: false`. */
  manual: RouteSettings | null
  /** Whether the hooks are on the route. */
  hooked: boolean
}

const NO_HEADERS: InterimHeaders = []
// `HTTP/1.1 102 Processing\r\n` and the blank line that ends the head.
const STATUS_BYTES = 28

const UNASKED = -1
const ENDED = -2

/** One request's 102s: how many went out, its place in the schedule, and whether it may get more. */
class RequestState extends Slot {
  sent = 0
  bytes = 0
  /**
   * The most 102s this request may get: UNASKED until the gate has been asked, ENDED once it gets no more
   * (withheld, or its final response started, or its connection closed). One field for the three: every
   * field is 8 bytes more per waiting request.
   */
  limit = UNASKED
  /** Why `limit` is what it is, for the one `withheld` message. */
  capped: WithheldReason = 'limit'

  // The request is reached through reply.request: a field of its own would be 8 bytes more per waiting request.
  constructor (
    readonly reply: FastifyReply,
    readonly options: RouteSettings,
    readonly transport: Transport
  ) {
    super()
  }
}

function withhold (state: RequestState, reason: WithheldReason, detail: string | null): false {
  state.limit = ENDED
  if (withheldChannel.hasSubscribers) {
    const { reply, options } = state
    withheldChannel.publish({ request: reply.request, reply, route: options.route, reason, detail } satisfies WithheldMessage)
  }
  return false
}

/** Writes one 102 if every wire rule and the gate allow it; the single door for automatic and manual 102s. */
function send (state: RequestState, headers: InterimHeaders, manual: boolean): boolean {
  const { reply, transport, options } = state
  const request = reply.request
  // A request that has had a 102 was received whole, and switches no protocol: asked only before the first.
  if (state.limit === ENDED || reply.sent || !transport.open(reply.raw) ||
    (state.sent === 0 && (!transport.received(request.raw) || switching(request.raw)))) return false
  // Where the route has a handlerTimeout, Fastify made the signal already (reading it costs nothing
  // then); once it aborts, the 503 is on its way, and a 102 now would only delay it.
  if (options.handlerTimeout > 0 && request.signal.aborted) return withhold(state, 'deadline', null)
  if (state.limit === UNASKED) {
    const decision = decide(request, options)
    state.limit = decision.limit
    if (decision.reason !== null) state.capped = decision.reason
    if (decision.limit === 0) return withhold(state, state.capped, decision.peer ?? (decision.signs.join(', ') || null))
  }
  if (state.sent >= state.limit) return withhold(state, state.capped, null)
  let bytes = STATUS_BYTES
  if (headers !== NO_HEADERS) for (const [name, values] of headers) bytes += name.length + 4 + values.join(', ').length
  if (state.bytes + bytes > options.interimBytes) return withhold(state, 'budget', `${state.bytes} + ${bytes} > ${options.interimBytes}`)
  transport.write(reply.raw, headers)
  // From its first 102 on, a request hears of every end of its response: an abort, error, timeout or
  // hijacked reply that ends. Before that, onSend stops it on every answer; one that ends without an
  // answer (an abort while the handler still works) stays in its lane until it falls due, and then finds
  // its response closed. Listening from the start cost each request that answers in time, which is most
  // of them, more than the rest of its work here.
  if (state.sent === 0) reply.raw.on('close', onResponseClose.bind(state))
  state.sent++
  state.bytes += bytes
  if (sentChannel.hasSubscribers) {
    sentChannel.publish({ request, reply, route: options.route, sent: state.sent, manual, bytes } satisfies SentMessage)
  }
  if (isLevelEnabled(request.log, 'trace')) {
    request.log.trace({ processingSent: state.sent, manual, headers: headers.map(([name]) => name) }, 'fastify-processing: 102 Processing sent')
  }
  return true
}

/**
 * Whether `log` writes at `level`: building a line costs more than the bookkeeping around it, on every
 * 102 and on every opted-in request that ends. Loggers without isLevelEnabled say their level.
 */
function isLevelEnabled (log: FastifyBaseLogger, level: 'trace' | 'debug'): boolean {
  const l = log as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean }
  return typeof l.isLevelEnabled === 'function' ? l.isLevelEnabled(level) : l.level === 'trace' || l.level === level
}

function fire (slot: Slot, now: number): void {
  const state = slot as RequestState
  const { reply, transport, options } = state
  const raw = reply.request.raw
  if (state.sent === 0 && !transport.received(raw)) {
    // A 102 promises the complete request was received: a slow upload gets its first one right after
    // its last byte. 'end' fires once the body is consumed, before the handler runs.
    if (!reply.sent && transport.open(reply.raw)) raw.once('end', () => { if (state.limit !== ENDED) fire(state, performance.now()) })
    return
  }
  if (!send(state, NO_HEADERS, false)) return
  if (state.sent >= state.limit) {
    withhold(state, state.capped, null)
    return
  }
  // Counted from this write, not from when it was due: a peer's idle timer sees the gap between two 102s,
  // and that gap stays at the interval even when one wave of a burst ran slower than the next. The price:
  // the schedule as a whole slips by each write's lateness, and a late 102 is never followed by a burst.
  // `now` is the scheduler's reading from just before this write: one clock read per 102, not two.
  scheduler.add(state, options.interval, now + options.interval, now)
}

/** The one schedule of every waiting request in this process. */
export const scheduler = new Scheduler(fire)

/** Ends one request's 102s: out of the schedule, and no more. */
export function stop (state: RequestState): void {
  scheduler.remove(state)
  state.limit = ENDED
}

// Bound to the state of each response: a closure (plus once()'s wrapper) would cost twice the memory; a
// symbol property on the response to find the state from would give every opted-in response another
// hidden class than Node's own, and a WeakMap entry costs more instructions per request than the bind.
// Added at a request's first 102: only a request that got 102s hears of its close, and has a total worth a line.
function onResponseClose (this: RequestState): void {
  stop(this)
  const log = this.reply.request.log
  if (isLevelEnabled(log, 'debug')) log.debug({ processingSent: this.sent }, 'fastify-processing: response closed')
}

/** Starts one request's 102s: its state on the reply, and its first 102 in the schedule. */
export function start (reply: FastifyReply, options: RouteSettings, transport: Transport): RequestState {
  const state = new RequestState(reply, options, transport)
  reply[kState] = state
  // The threshold counts from the request's arrival, which Fastify timed (elapsedTime) if anything asked
  // it to; otherwise from now, after the hooks that ran before this one.
  const now = performance.now()
  scheduler.add(state, options.threshold, now - reply.elapsedTime + options.threshold, now)
  return state
}

// Named so that `app.printRoutes({ includeHooks: true })` shows which routes the plugin took: the one way
// to notice a route it never saw (declared before it, or in another context).
function routeHooks (box: RouteBox): { onRequest: onRequestHookHandler, onSend: onSendHookHandler } {
  return {
    onRequest: function fastifyProcessingOnRequest (request, reply, done) {
      const options = box.options
      if (options !== null) {
        const transport = transportFor(request.raw)
        if (transport !== null) start(reply, options, transport)
      }
      done()
    },
    onSend: function fastifyProcessingOnSend (_request, reply, payload, done) {
      const state = reply[kState]
      if (state !== null) stop(state)
      done(null, payload)
    }
  }
}

type Hooks<T> = T | T[] | undefined

function append<T> (hooks: Hooks<T>, hook: T): T[] {
  return hooks === undefined ? [hook] : Array.isArray(hooks) ? [...hooks, hook] : [hooks, hook]
}

/**
 * Takes a route being declared (from onRoute): the first registration that sees it makes its box, and
 * hooks only a route that takes part; a later, inner registration replaces the box's options. Returns
 * the box, whose options say which registration has the route.
 */
export function claimRoute (route: RouteOptions, options: RouteSettings | null, manual: RouteSettings | null): RouteBox {
  const config = (route.config ?? {}) as Record<symbol, RouteBox | undefined>
  let box = Object.hasOwn(config, kRoute) ? config[kRoute] as RouteBox : undefined
  if (box === undefined) {
    box = { options, manual, hooked: false }
    route.config = { ...route.config, [kRoute]: box } as typeof route.config
  } else {
    box.options = options
    box.manual = manual
  }
  if (options !== null && !box.hooked) {
    box.hooked = true
    const hooks = routeHooks(box)
    route.onRequest = append(route.onRequest, hooks.onRequest)
    route.onSend = append(route.onSend, hooks.onSend)
  }
  return box
}

// Routes (by their config object) already warned of a dropped header value: the value comes from data,
// so the same route would say it on every request.
const droppedOn = new WeakSet<object>()

/** Says once per route that a header value outside the rule was left out of a 102. */
function warnDropped (reply: FastifyReply, header: string): void {
  const { config, url } = reply.request.routeOptions
  if (droppedOn.has(config)) return
  droppedOn.add(config)
  const route = `${reply.request.method} ${url ?? reply.request.url}`
  logCode(reply.log, FST_PROCESSING_HEADER_VALUE_DROPPED, { route, header }, route, header)
}

/** `reply.processing(headers?)`: one 102 now, under the same rules as the automatic ones. */
export function manualProcessing (defaults: RouteSettings): (this: FastifyReply, headers?: ProcessingHeaders) => boolean {
  return function processing (this: FastifyReply, headers?: ProcessingHeaders): boolean {
    const interim = headers === undefined ? NO_HEADERS : interimHeaders(headers, (name) => warnDropped(this, name))
    let state = this[kState]
    if (state === null) {
      // A route that did not opt in, and no timer: the options of the registration that saw it declared,
      // the first registration's for a route none saw.
      const box = (this.request.routeOptions.config as unknown as Record<symbol, RouteBox | undefined>)[kRoute]
      const options = box === undefined ? defaults : box.manual
      const transport = transportFor(this.request.raw)
      if (options === null || transport === null) return false
      state = this[kState] = new RequestState(this, options, transport)
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

/** Lets the schedule's timer go once no request of any app waits; for an app's onClose. */
export function release (): void {
  scheduler.release()
}

export type { RequestState }
