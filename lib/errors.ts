import createError from '@fastify/error'
import type { FastifyBaseLogger } from 'fastify'
import { format, inspect } from 'node:util'

// Every FST_PROCESSING_* code is declared here, once, thrown or logged; the README's "Error and log
// codes" table says when each one happens and what to do (test/codes.test.ts holds the two together).

// Option errors are TypeErrors raised while the app is being built (register, route declaration or
// ready()), never while a request is served: a typo in `threshold` must stop a deploy, not a request.
export const FST_PROCESSING_INVALID_OPTION = createError<'FST_PROCESSING_INVALID_OPTION', 500, [where: string, option: string, expected: string, received: string]>(
  'FST_PROCESSING_INVALID_OPTION',
  '%s: "%s" must be %s, received %s',
  500,
  TypeError
)

export const FST_PROCESSING_UNKNOWN_OPTION = createError<'FST_PROCESSING_UNKNOWN_OPTION', 500, [where: string, option: string, known: string]>(
  'FST_PROCESSING_UNKNOWN_OPTION',
  '%s: unknown option "%s" (known options: %s)',
  500,
  TypeError
)

export const FST_PROCESSING_INVALID_HEADER = createError<'FST_PROCESSING_INVALID_HEADER', 500, [header: string, problem: string, received: string]>(
  'FST_PROCESSING_INVALID_HEADER',
  'reply.processing(): interim header %s %s, received %s',
  500,
  TypeError
)

export const FST_PROCESSING_ALREADY_REGISTERED = createError<'FST_PROCESSING_ALREADY_REGISTERED', 500, []>(
  'FST_PROCESSING_ALREADY_REGISTERED',
  'fastify-processing is already registered in this context: register it again only inside a child context, or set config.processing per route',
  500,
  Error
)

/** A short, single-line rendering of any value for an error message. */
export function describeValue (value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 64 })
}

type Level = 'warn' | 'info' | 'debug'

/** A code that is logged, not thrown: its level, and a one-sentence message with `%s` for its values. */
export interface LoggedCode<L extends Level, Values extends unknown[]> {
  readonly code: string
  readonly level: L
  readonly message: string
  /** Never set: carries the values' types to `logCode`. */
  readonly values?: Values
}

function loggedCode<Values extends unknown[], L extends Level = 'warn'> (code: string, level: L, message: string): LoggedCode<L, Values> {
  return Object.freeze({ code, level, message })
}

/** Logs a declared code at its level, with `fields` beside the code and the message filled in with `values`. */
export function logCode<L extends Level, Values extends unknown[]> (log: Pick<FastifyBaseLogger, L>, declared: LoggedCode<L, Values>, fields: Record<string, unknown>, ...values: Values): void {
  log[declared.level]({ code: declared.code, ...fields }, 'fastify-processing: ' + format(declared.message, ...values))
}

// At ready(), once per route: options that validate but cannot work with the server's settings.

export const FST_PROCESSING_NEVER_BEFORE_DEADLINE = loggedCode<[route: string, threshold: number, handlerTimeout: number]>(
  'FST_PROCESSING_NEVER_BEFORE_DEADLINE', 'warn',
  'route %s sends its first 102 after %s ms, at or after its handlerTimeout %s ms: it never sends one; lower threshold')

export const FST_PROCESSING_THRESHOLD_PAST_TIMEOUT = loggedCode<[route: string, threshold: number, connectionTimeout: number]>(
  'FST_PROCESSING_THRESHOLD_PAST_TIMEOUT', 'warn',
  'route %s sends its first 102 after %s ms, but the server closes an idle connection after connectionTimeout %s ms: lower threshold below connectionTimeout')

export const FST_PROCESSING_INTERVAL_PAST_TIMEOUT = loggedCode<[route: string, interval: number, connectionTimeout: number]>(
  'FST_PROCESSING_INTERVAL_PAST_TIMEOUT', 'warn',
  'route %s sends a 102 every %s ms, but the server closes an idle connection after connectionTimeout %s ms: lower interval below connectionTimeout')

// Also logged while serving, once per route, when a request comes through a recognised Cloudflare.
export const FST_PROCESSING_PAST_PROXY_DEADLINE = loggedCode<[route: string, proxy: string, finalWithin: number, handlerTimeout: string, atMost: number]>(
  'FST_PROCESSING_PAST_PROXY_DEADLINE', 'warn',
  'route %s is behind %s, which wants the final response within %s ms of the first 102, but %s: set handlerTimeout to at most %s ms')

/** FST_PROCESSING_PAST_PROXY_DEADLINE's fourth value: what the route's handlerTimeout is. */
export function handlerTimeoutIs (handlerTimeout: number): string {
  return handlerTimeout === 0 ? 'the route has no handlerTimeout' : `its handlerTimeout is ${handlerTimeout} ms`
}

export const FST_PROCESSING_STOPS_BEFORE_DEADLINE = loggedCode<[route: string, lastProcessingAt: number, handlerTimeout: number]>(
  'FST_PROCESSING_STOPS_BEFORE_DEADLINE', 'warn',
  'route %s sends its last 102 at %s ms, well before its handlerTimeout %s ms, so idle timers along the path can run out in between: raise limit or interval')

export const FST_PROCESSING_NO_DEADLINE = loggedCode<[route: string, lastProcessingAt: number], 'debug'>(
  'FST_PROCESSING_NO_DEADLINE', 'debug',
  'route %s has no handlerTimeout, so its 102s can keep a client waiting as long as the handler runs (up to %s ms of 102s): set handlerTimeout (Fastify >= 5.8) to guarantee a final response')

export const FST_PROCESSING_MISSPELT = loggedCode<[route: string, key: string]>(
  'FST_PROCESSING_MISSPELT', 'warn',
  'route %s has config.%s, which is not an option; did you mean config.processing?')

// At startup, once per route (the last once per app): mistakes Fastify accepts without a word, which
// would otherwise opt nothing in.

export const FST_PROCESSING_ROUTE_OPTION = loggedCode<[route: string, value: string]>(
  'FST_PROCESSING_ROUTE_OPTION', 'warn',
  'route %s has processing as a route option, which Fastify hands to no plugin: put it in the route\'s config ({ config: { processing: %s } })')

export const FST_PROCESSING_OPTION_IN_CONFIG = loggedCode<[route: string, keys: string, moved: string]>(
  'FST_PROCESSING_OPTION_IN_CONFIG', 'warn',
  'route %s has %s, which the plugin reads only inside config.processing: move it there ({ config: { processing: { %s } } })')

// At info, not warn: Fastify shows the plugin no earlier route's config, so most of the routes listed
// (a health check, another plugin's) never wanted 102s, and a correct app must not warn at every start.
export const FST_PROCESSING_ROUTES_BEFORE = loggedCode<[count: number, routes: string], 'info'>(
  'FST_PROCESSING_ROUTES_BEFORE', 'info',
  '%s route(s) were declared before the plugin was registered (%s), so they get no 102s: if one should, register the plugin before the routes (await fastify.register(fastifyProcessing))')

export const FST_PROCESSING_EXPECT_UNREACHED = loggedCode<[addresses: number, reached: number]>(
  'FST_PROCESSING_EXPECT_UNREACHED', 'warn',
  'Fastify listens on %s addresses but only %s of its servers could be reached, so Expect: 102-processing gets 417 on the others: listen on a single host instead of \'localhost\'')

// While serving.

export const FST_PROCESSING_HEADER_VALUE_DROPPED = loggedCode<[route: string, header: string]>(
  'FST_PROCESSING_HEADER_VALUE_DROPPED', 'warn',
  'route %s sent a 102 without its %s header, whose value has a character outside tab, space, visible ASCII and 0x80–0xff (Latin-1): encode it (encodeURIComponent) to send it (logged once per route)')

// The second value names the behind value of the proxy the headers look like, or how to name one.
export const FST_PROCESSING_PROXY_WITHHELD = loggedCode<[headers: string, declare: string, kinds: string]>(
  'FST_PROCESSING_PROXY_WITHHELD', 'warn',
  'a request came through a proxy (it carries %s), so it gets no 102 until behind declares the path: %s; behind nginx, { behind: \'nginx\' } sends none and ends this warning (once per process for %s)')

export const FST_PROCESSING_RULE_THREW = loggedCode<[asker: string, meaning: string]>(
  'FST_PROCESSING_RULE_THREW', 'warn',
  '%s threw, so %s (logged once per route)')

export const FST_PROCESSING_RULE_NOT_BOOLEAN = loggedCode<[asker: string, returned: string, meaning: string]>(
  'FST_PROCESSING_RULE_NOT_BOOLEAN', 'warn',
  '%s must return true or false synchronously, returned %s, so %s (logged once per route)')
