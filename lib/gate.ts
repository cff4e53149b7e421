import type { FastifyRequest } from 'fastify'
import { FST_PROCESSING_PAST_PROXY_DEADLINE, FST_PROCESSING_PROXY_WITHHELD, FST_PROCESSING_RULE_NOT_BOOLEAN, FST_PROCESSING_RULE_THREW, handlerTimeoutIs, logCode, type LoggedCode } from './errors.js'
import type { RouteSettings } from './options.js'
import { proxySigns, type PeerRule } from './peers.js'

/** How many 102s one request may get, and why that is fewer than its route's `limit`. */
export interface Decision {
  /** The most 102s this request may get; 0 for none. */
  readonly limit: number
  /** Why `limit` is below the route's, or null. */
  readonly reason: 'requireExpect' | 'peer' | 'proxy' | 'when' | null
  /** The peer row or declared hop that set the limit. */
  readonly peer: string | null
  /** The proxy-sign headers the request carries (lower-case names). */
  readonly signs: readonly string[]
}

const EXPECT_102 = /(?:^|,)\s*102-processing\s*(?:,|$)/i

// Per process, as the issue of a deployment is: one line per kind of sign says what to declare.
const warnedSigns = new Set<string>()
// Per route: a `when` or rule that fails fails the same way for every request.
const warnedRoutes = new WeakMap<RouteSettings, Set<string>>()

function warnRoute<Values extends unknown[]> (request: FastifyRequest, options: RouteSettings, fields: Record<string, unknown>, declared: LoggedCode<'warn', Values>, ...values: Values): void {
  let codes = warnedRoutes.get(options)
  if (codes === undefined) warnedRoutes.set(options, codes = new Set())
  if (codes.has(declared.code)) return
  codes.add(declared.code)
  logCode(request.log, declared, { ...fields, route: options.route }, ...values)
}

/** Whether a header name is on a list where `'x-forwarded-*'` stands for a prefix. */
function listed (name: string, list: readonly string[]): string | undefined {
  return list.find((entry) => entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : name === entry)
}

// proxySigns split once: every header of every request with a 102 is looked up, where `listed` would
// slice each prefix entry again for each header.
const exactSigns = new Set(proxySigns.filter((entry) => !entry.endsWith('*')))
const prefixSigns = proxySigns.filter((entry) => entry.endsWith('*')).map((entry) => entry.slice(0, -1))
const NO_SIGNS: readonly string[] = Object.freeze([])

function isSign (name: string): boolean {
  if (exactSigns.has(name)) return true
  for (const prefix of prefixSigns) if (name.startsWith(prefix)) return true
  return false
}

function signsOf (headers: FastifyRequest['headers']): readonly string[] {
  let signs: string[] | null = null
  for (const name in headers) if (isSign(name)) (signs ??= []).push(name)
  return signs ?? NO_SIGNS
}

// Put in words only for a warning: decide() asks every row about every request that gets to its first 102.
function named (asker: PeerRule | string): string {
  return typeof asker === 'string' ? asker : `peer rule "${asker.name}"`
}

/**
 * A yes/no question the user or a peer row answers about a request. One that cannot answer is taken as
 * the answer that sends fewer 102s, `fallback`, which `meaning` puts in words for the warning. `asker` is
 * the peer row, or the question's name.
 */
function ask (request: FastifyRequest, options: RouteSettings, question: (request: FastifyRequest) => unknown, asker: PeerRule | string, fallback: boolean, meaning: string): boolean {
  let answer: unknown
  try {
    answer = question(request)
  } catch (err) {
    warnRoute(request, options, { err }, FST_PROCESSING_RULE_THREW, named(asker), meaning)
    return fallback
  }
  if (typeof answer === 'boolean') return answer
  // A promise is truthy: taken as a yes it would send 102s its author meant to refuse.
  warnRoute(request, options, {}, FST_PROCESSING_RULE_NOT_BOOLEAN,
    named(asker), typeof answer === 'object' && answer !== null ? answer.constructor.name : typeof answer, meaning)
  return fallback
}

function withheldForSigns (request: FastifyRequest, signs: readonly string[]): void {
  const kinds = [...new Set(signs.map((name) => listed(name, proxySigns) as string))].filter((kind) => !warnedSigns.has(kind))
  if (kinds.length === 0) return
  for (const kind of kinds) warnedSigns.add(kind)
  logCode(request.log, FST_PROCESSING_PROXY_WITHHELD, { headers: signs, kinds }, signs.join(', '), kinds.join(', '))
}

/**
 * Asked once per request, just before its first 102: `requireExpect`, the peers it is recognised as, the
 * proxies it came through (declared, or unknown), then `when`. Cheap questions first, `when` last, so a
 * user's function never runs for a request that gets nothing anyway. `quiet`: a question asked to report
 * the policy (the probe), not to withhold, says nothing about proxy signs.
 */
export function decide (request: FastifyRequest, options: RouteSettings, quiet = false): Decision {
  if (options.requireExpect && !EXPECT_102.test(request.headers.expect ?? '')) {
    return { limit: 0, reason: 'requireExpect', peer: null, signs: NO_SIGNS }
  }
  let limit = options.limit
  let reason: Decision['reason'] = null
  let peer: string | null = null
  let explained: string[] | null = null
  for (const rule of options.peers) {
    // A rule that cannot decide is taken as a match: a peer row exists to hold 102s back.
    if (!ask(request, options, rule.match, rule, true, 'it is taken as a match')) continue
    if (rule.limit < limit) {
      limit = rule.limit
      reason = 'peer'
      peer = rule.name
    }
    if (rule.adds !== undefined) (explained ??= []).push(...rule.adds)
    finalWithin(request, options, rule)
  }
  const signs = signsOf(request.headers)
  if (options.behind === null) {
    const unknown = signs.filter((name) => explained === null || listed(name, explained) === undefined)
    if (unknown.length > 0) {
      if (!quiet) withheldForSigns(request, unknown)
      return { limit: 0, reason: 'proxy', peer: null, signs }
    }
  } else {
    for (const hop of options.behind) {
      // A rule that cannot decide vouches for nothing.
      const passes = hop.rule === null ? hop.limit : ask(request, options, hop.rule, 'the behind rule', false, 'this request gets no 102') ? Infinity : 0
      if (passes < limit) {
        limit = passes
        reason = 'proxy'
        peer = hop.name
      }
    }
  }
  if (limit > 0 && options.when !== null && !ask(request, options, options.when, '`when`', false, 'this request gets no 102')) {
    return { limit: 0, reason: 'when', peer: null, signs }
  }
  if (reason !== null) request.log.debug({ peer, limit, reason }, 'fastify-processing: 102s limited for this peer or path')
  return { limit, reason, peer, signs }
}

// A proxy that wants the final response within a fixed time of the first 102 turns a longer handler into
// its own error page: said once per route, with the setting that avoids it.
function finalWithin (request: FastifyRequest, options: RouteSettings, rule: PeerRule): void {
  const within = rule.finalWithin
  const { route, threshold, handlerTimeout } = options
  if (within === undefined || (handlerTimeout > 0 && handlerTimeout <= threshold + within)) return
  warnRoute(request, options, { behind: rule.name, handlerTimeout }, FST_PROCESSING_PAST_PROXY_DEADLINE,
    route, rule.name, within, handlerTimeoutIs(handlerTimeout), threshold + within)
}
