import type { FastifyRequest } from 'fastify'
import { FST_PROCESSING_PAST_PROXY_DEADLINE, FST_PROCESSING_PROXY_WITHHELD, FST_PROCESSING_RULE_NOT_BOOLEAN, FST_PROCESSING_RULE_THREW, handlerTimeoutIs, logCode, type LoggedCode } from './errors.js'
import type { Hop, RouteSettings } from './options.js'
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
const NO_SIGNS: readonly string[] = Object.freeze([])
const NO_EXPECT: Decision = Object.freeze({ limit: 0, reason: 'requireExpect', peer: null, signs: NO_SIGNS })

// Per route, made at its first request: what a request gets when nothing lowers it (most requests), or,
// where the declared path lets none through (`behind: 'nginx'`), what every request gets. Handing out the
// same frozen object keeps the common path free of allocation.
const fixed = new WeakMap<RouteSettings, Decision>()

function routeDecision (options: RouteSettings): Decision {
  let decision = fixed.get(options)
  if (decision === undefined) {
    const closed = options.behind?.find((hop) => hop.limit === 0)
    decision = Object.freeze(closed === undefined
      ? { limit: options.limit, reason: null, peer: null, signs: NO_SIGNS }
      : { limit: 0, reason: 'proxy', peer: closed.name, signs: NO_SIGNS })
    fixed.set(options, decision)
  }
  return decision
}

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

// proxySigns split once: every header of every request with a 102 is looked up.
const exactSigns = new Set(proxySigns.filter((entry) => !entry.endsWith('*')))
const prefixSigns = proxySigns.filter((entry) => entry.endsWith('*')).map((entry) => entry.slice(0, -1))

function isSign (name: string): boolean {
  if (exactSigns.has(name)) return true
  for (const prefix of prefixSigns) if (name.startsWith(prefix)) return true
  return false
}

// The one pass over a request's headers; no array unless a sign is there.
function signsOf (headers: FastifyRequest['headers']): readonly string[] {
  let signs: string[] | null = null
  for (const name in headers) if (isSign(name)) (signs ??= []).push(name)
  return signs ?? NO_SIGNS
}

/** The entry of proxySigns a sign falls under: itself, or its prefix entry (`'x-forwarded-*'`). */
function kindOf (sign: string): string {
  return exactSigns.has(sign) ? sign : `${prefixSigns.find((prefix) => sign.startsWith(prefix))}*`
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

// `likely`: the proxy row the request was recognised as, whose `behind` value the line can name.
function withheldForSigns (request: FastifyRequest, signs: readonly string[], likely: PeerRule | null): void {
  const kinds = [...new Set(signs.map(kindOf))].filter((kind) => !warnedSigns.has(kind))
  if (kinds.length === 0) return
  for (const kind of kinds) warnedSigns.add(kind)
  const declare = likely?.path === undefined
    ? "if every proxy in front passes 102s, name it as in { behind: 'haproxy' } ('cloudflare', 'traefik', 'probed' after npx fastify-processing probe, or a rule (request) => boolean)"
    : `these headers look like ${likely.name}'s: if ${likely.name} is in front, { behind: '${likely.path}' }`
  logCode(request.log, FST_PROCESSING_PROXY_WITHHELD, { headers: signs, kinds, looksLike: likely?.path ?? null }, signs.join(', '), declare, kinds.join(', '))
}

/**
 * Asked once per request, just before its first 102: `requireExpect`, the peers it is recognised as, the
 * proxy signs it carries and the path declared in front of the app, then `when`. Each can only lower what
 * the request gets: a recognised proxy caps or withholds, and through a proxy 102s flow only where `behind`
 * declares the path. Cheap questions first, `when` last, so a user's function never runs for a request
 * that gets nothing anyway. `quiet`: a question asked to report the policy (the probe), not to withhold,
 * says nothing about proxy signs. A request that nothing lowers gets its route's one frozen Decision.
 */
export function decide (request: FastifyRequest, options: RouteSettings, quiet = false): Decision {
  if (options.requireExpect && !EXPECT_102.test(request.headers.expect ?? '')) return NO_EXPECT
  const route = routeDecision(options)
  // Declared to let none through: nothing to ask, and nothing to say.
  if (route.limit === 0) return route
  let limit = options.limit
  let reason: Decision['reason'] = null
  let peer: string | null = null
  let likely: PeerRule | null = null
  let deadlined: PeerRule | null = null
  // Indexed: for-of over a frozen array (the options' are) allocates an iterator per loop.
  const rules = options.peers
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as PeerRule
    // A rule that cannot decide is taken as a match: a peer row exists to hold 102s back.
    if (!ask(request, options, rule.match, rule, true, 'it is taken as a match')) continue
    if (rule.limit < limit) {
      limit = rule.limit
      reason = 'peer'
      peer = rule.name
    }
    if (likely === null && rule.path !== undefined) likely = rule
    if (deadlined === null && rule.finalWithin !== undefined) deadlined = rule
  }
  const signs = signsOf(request.headers)
  // A row that sends none has said all there is to say: declaring the path would not change it.
  if (limit === 0) return limited(request, { limit, reason, peer, signs })
  if (options.behind === null) {
    if (signs !== NO_SIGNS) {
      if (!quiet) withheldForSigns(request, signs, likely)
      return { limit: 0, reason: 'proxy', peer: null, signs }
    }
  } else {
    for (let i = 0; i < options.behind.length; i++) {
      const hop = options.behind[i] as Hop
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
  if (deadlined !== null && limit > 0) finalWithin(request, options, deadlined)
  if (reason === null) return signs === NO_SIGNS ? route : { limit, reason, peer, signs }
  return limited(request, { limit, reason, peer, signs })
}

function limited (request: FastifyRequest, decision: Decision): Decision {
  request.log.debug({ peer: decision.peer, limit: decision.limit, reason: decision.reason }, 'fastify-processing: 102s limited for this peer or path')
  return decision
}

// A proxy that wants the final response within a fixed time of the first 102 turns a longer handler into
// its own error page: said once per route, with the setting that avoids it.
function finalWithin (request: FastifyRequest, options: RouteSettings, rule: PeerRule): void {
  const within = rule.finalWithin as number
  const { route, threshold, handlerTimeout } = options
  if (handlerTimeout > 0 && handlerTimeout <= threshold + within) return
  warnRoute(request, options, { behind: rule.name, handlerTimeout }, FST_PROCESSING_PAST_PROXY_DEADLINE,
    route, rule.name, within, handlerTimeoutIs(handlerTimeout), threshold + within)
}
