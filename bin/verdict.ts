import { heldFor, holdRun, intact, trial, type Exchange, type Report, type Settings, type Trial } from './measure.js'

/** What the path does with 102s, in one word: the verdict's kind. */
export type Kind = 'safe' | 'capped' | 'deadline' | 'holds' | 'final' | 'fails-first' | 'drops' | 'drops-resets' |
  'breaks' | 'held-fails' | 'unsteady' | 'no-interims' | 'unreachable'

export interface Result {
  url: string
  transport: 'HTTP/1.1' | 'HTTP/2'
  /** null when the probe answered; else why the path could not be measured. */
  unreachable: string | null
  /** What the app saw: its protocol, the proxy signs, what its default policy would do, its own bounds. */
  app: { protocol: string, policy: Report['policy'], headers: Record<string, unknown>, maxCount: number | null } | null
  /** How many 102s reached the client in the last trial that worked, of how many sent. */
  arrived: { seen: number, sent: number } | null
  /**
   * The last count that worked and the first that failed (null: none failed up to `max`, the highest
   * count tried: `--max`, or less when the app's own `probe.maxCount` is lower).
   */
  cap: { works: number, fails: number | null, failure: string | null, max: number, steady: boolean } | null
  /**
   * A clock the 102s do not reset: the path fails this long after the request, whatever the count; seen
   * by the count trials (their failing count is the clock's, not a cap) or by the hold.
   */
  deadline: { ms: number, seen: string, by: 'counts' | 'hold' } | null
  /** The path held back what the app had sent, this long after the app answered (nginx: proxy_read_timeout). */
  held: { ms: number, sent: number, reached: number } | null
  final: 'intact' | string | null
  keepAlive: { without: boolean, after: boolean | null } | null
  hold: { ms: number, without: string, with: string, count: number, withMs: number, withoutMs: number, auto: boolean } | null
  kind: Kind
  verdict: string
  options: string
  exit: 0 | 1 | 2
}

/** How a failed exchange ended, in a few words. */
export function outcome (e: Exchange, count: number): string {
  if (e.error !== null) return e.interims.length > 0 ? `${e.error} after ${e.interims.length} 102(s)` : e.error
  if (e.status !== 200) return `status ${e.status}`
  if (e.report === null) return '200 without the probe\'s report'
  if (e.report.sent.length !== count) return `the app sent ${e.report.sent.length} of ${count}`
  return 'intact'
}

const reusedFine = (t: Trial): boolean => t.next !== null && t.next.reused && intact(t.next, 0)
const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`

// When 102s never reach the client and no --hold is given, the command holds the path this long, with
// 102s and without, to learn whether they reset its idle timer: past h2o's proxy.timeout.io (30 s), inside
// the 100 s a verdict may take.
export const AUTO_HOLD = 35_000
// A first failure that took this long (a path that held it) is not tried again: the verdict must come
// within 100 s even where the proxy holds for its default 60 s.
const NO_REPEAT_AFTER = 10_000

/** Runs every measurement the command reports, in order, and reads the verdict from them. */
export async function probePath (s: Settings): Promise<Result> {
  const result: Result = {
    url: s.url.href,
    transport: s.http2 ? 'HTTP/2' : 'HTTP/1.1',
    unreachable: null,
    app: null,
    arrived: null,
    cap: null,
    deadline: null,
    held: null,
    final: null,
    keepAlive: null,
    hold: null,
    kind: 'unreachable',
    verdict: '',
    options: '',
    exit: 2
  }
  const base = await trial(s, 0)
  const report = base.main.report
  if (base.main.status === 404) {
    result.unreachable = '404: no probe at this path, or the token is wrong'
  } else if (report === null || base.main.status !== 200) {
    result.unreachable = `the probe did not answer: ${outcome(base.main, 0)}`
  }
  if (report === null || result.unreachable !== null) {
    result.verdict = result.unreachable!
    return result
  }
  const maxCount = report.limits?.maxCount ?? null
  result.app = { protocol: report.protocol, policy: report.policy, headers: report.headers, maxCount }
  result.keepAlive = { without: reusedFine(base), after: null }
  if (report.stopped !== null) {
    return decide(result, report.protocol === 'HTTP/1.0' ? 'the app sees HTTP/1.0: no 102 can go on this path' : `no 102 can go on this path: ${report.stopped}`)
  }
  // The app's own bounds are not the path's: the search never asks for more than the endpoint allows.
  let max = s.max
  if (maxCount !== null) max = Math.min(max, maxCount, Math.floor(report.limits!.maxTime / s.interval))

  // N, then N + 1: double the count until the path fails, then halve the gap between the last count that
  // worked and the first that did not, until they are one apart.
  let works = 0
  let worked = base
  let fails: Trial | null = null
  // One trial of `count` interims: records it as the highest count that works, or as the lowest that fails.
  const attempt = async (count: number): Promise<Trial | null> => {
    const t = await trial(s, count)
    if (!intact(t.main, count)) return t
    works = count
    worked = t
    return null
  }
  for (let count = 1; fails === null; count = Math.min(count * 2, max)) {
    fails = await attempt(count)
    // A connection that the path breaks after 102s decides the verdict: higher counts would only wait on
    // it again (nginx with proxy_buffering off: until proxy_read_timeout).
    if (count === max || (fails === null && result.keepAlive.without && !reusedFine(worked))) {
      max = count
      break
    }
  }
  while (fails !== null && fails.count - works > 1) {
    fails = await attempt(Math.floor((works + fails.count) / 2)) ?? fails
  }
  // N works and N + 1 fails, each seen twice: a failure that does not repeat comes from a slow moment,
  // not from the path. Then the count that worked, at twice the interval: a count cap still lets it
  // through, a deadline (a clock the 102s do not reset) fails it at the same time as before.
  let steady = true
  if (fails !== null && works === 0 && fails.main.ms < NO_REPEAT_AFTER) {
    steady = !intact((await trial(s, 1)).main, 1)
  } else if (fails !== null && works > 0) {
    const again = await trial(s, fails.count)
    const before = await trial(s, works)
    steady = !intact(again.main, fails.count) && intact(before.main, works)
    if (steady) {
      const slower = await trial(s, works, s.interval * 2)
      if (!intact(slower.main, works)) {
        result.deadline = { ms: Math.min(fails.main.ms, again.main.ms, slower.main.ms), seen: outcome(slower.main, works), by: 'counts' }
      }
    }
  }
  result.cap = { works, fails: fails?.count ?? null, failure: fails === null ? null : outcome(fails.main, fails.count), max, steady }
  result.final = works > 0 ? 'intact' : outcome(fails!.main, 1)
  if (works > 0) {
    result.arrived = { seen: worked.main.interims.length, sent: works }
    result.keepAlive.after = reusedFine(worked)
  } else {
    result.arrived = { seen: fails!.main.interims.length, sent: 1 }
    const held = heldFor(fails!.main)
    if (held !== null) result.held = { ms: held, sent: fails!.main.app!.sent.length, reached: fails!.main.interims.length }
  }

  // Where no 102 reaches the client, whether they still reset the path's timer decides what they are worth.
  const auto = s.hold === null && works > 0 && fails === null && result.arrived.seen === 0
  const hold = s.hold ?? (auto ? AUTO_HOLD : null)
  if (hold !== null && works > 0 && steady) {
    // About one a second, as many as the path takes: a gap longer than its idle timeout would measure the gap.
    const count = Math.min(works, Math.max(4, Math.ceil(hold / 1000) - 1))
    let seen = 0
    const started = performance.now()
    const tell = (): void => {
      const at = (performance.now() - started) / 1000
      s.waiting?.(`holding the path ${seconds(hold)}${auto ? ' (no 102 reached us: do they reset its timer?)' : ''}, with ${count} 102s and without: ${at.toFixed(1)} s; 102s seen so far: ${seen} of ${count}`)
    }
    tell()
    const tick = setInterval(tell, 1000)
    try {
      const [without, withThem] = await Promise.all([
        holdRun(s, hold, 0, () => {}),
        holdRun(s, hold, count, () => { seen++ })
      ])
      result.hold = { ms: hold, count, without: outcome(without, 0), with: outcome(withThem, count), withoutMs: without.ms, withMs: withThem.ms, auto }
    } finally {
      clearInterval(tick)
    }
    // Held with 102s and without, it fails all the same: a clock they do not reset.
    if (result.hold.with !== 'intact' && result.hold.without !== 'intact') {
      result.deadline ??= { ms: result.hold.withMs, seen: result.hold.with, by: 'hold' }
    }
  }
  return decide(result, null)
}

function decide (result: Result, forced: string | null): Result {
  const policy = result.app!.policy
  let kind: Kind
  let verdict: string
  let sendNone = false
  let limit: number | null = null
  if (forced !== null) {
    result.kind = 'no-interims'
    result.verdict = forced
    result.options = '{} (the plugin sends no 102 on this path; probe again if the app ever sees HTTP/1.1 here)'
    result.exit = 1
    return result
  }
  const cap = result.cap!
  const seen = result.arrived!.seen
  const hold = result.hold
  // Held in silence the path failed, and with 102s it did not: they reset its idle timer.
  const resets = hold !== null && hold.with === 'intact' && hold.without !== 'intact'
  if (!cap.steady) {
    result.kind = 'unsteady'
    result.verdict = 'unsteady: the same count worked once and failed once'
    result.options = 'none yet: run again, with a smaller --interval or a longer timeout on the path'
    result.exit = 1
    return result
  } else if (cap.works === 0) {
    sendNone = true
    const held = result.held
    if (seen > 0) {
      kind = 'final'
      verdict = `takes a 102 as final${held === null ? '' : `, and held it back ${seconds(held.ms)} after the app answered (a read timeout: nginx's proxy_read_timeout is 60 s by default)`}: do not send`
    } else if (held !== null) {
      kind = 'holds'
      verdict = `holds 102s back: nothing reached the client in ${seconds(held.ms)} after the app had sent ${held.sent} and answered (nginx holds them until proxy_read_timeout): do not send`
    } else {
      kind = 'fails-first'
      verdict = `fails at the first 102 (${cap.failure})`
    }
  } else if (result.deadline !== null) {
    kind = 'deadline'
    verdict = `deadline: the path fails about ${seconds(result.deadline.ms)} after the request (${result.deadline.seen}) whatever the count, and 102s do not reset it`
    // A count that failed in the count trials is a cap only where the clock did not make it fail.
    if (cap.fails !== null && result.deadline.by === 'hold') {
      verdict += `; also capped at ${cap.works}`
      limit = cap.works
    }
  } else if (cap.fails !== null) {
    kind = 'capped'
    verdict = `capped at ${cap.works}${seen === 0 ? ' (and the 102s do not reach the client)' : ''}`
    limit = cap.works
  } else if (seen === 0) {
    if (resets) {
      kind = 'drops-resets'
      verdict = `drops them, but they reset its timer: none reached the client, yet held ${seconds(hold.ms)} with 102s it answered, and in silence it failed (${hold.without} at ${seconds(hold.withoutMs)})`
    } else {
      kind = 'drops'
      verdict = hold === null
        ? 'drops them: none reached the client (hold the path longer than its idle timeout with --hold to learn whether they reset its timer)'
        : `drops them: none reached the client, and held ${seconds(hold.ms)} the path did not time out either way (hold longer than its idle timeout to learn whether they reset its timer)`
      sendNone = true
    }
  } else if (result.keepAlive!.without && result.keepAlive!.after === false) {
    kind = 'breaks'
    verdict = 'breaks the connection after a 102: the next request on it fails: do not send'
    sendNone = true
  } else if (hold !== null && hold.with !== 'intact') {
    kind = 'held-fails'
    verdict = `held ${seconds(hold.ms)} with 102s it fails (${hold.with}), and in silence it does not: do not send`
    sendNone = true
  } else {
    kind = 'safe'
    verdict = resets ? `safe: every 102 passed, and they keep the path alive past its idle timeout (in silence: ${hold.without})` : 'safe'
  }
  result.kind = kind
  result.verdict = verdict
  result.options = optionsLine(policy, kind, { sendNone, limit })
  result.exit = kind === 'safe' ? 0 : 1
  return result
}

/** The one line of plugin options that fits a path, given what the default policy does there already. */
function optionsLine (policy: Report['policy'], kind: Kind, { sendNone, limit }: { sendNone: boolean, limit: number | null }): string {
  if (sendNone) {
    if (policy.reason === 'peer' && !policy.sends) return '{} (the defaults already send no 102 on this path)'
    // nginx's ways (and Traffic Server's): declared, so that the app sends none and does not warn about an
    // unknown proxy on every start.
    if (kind === 'final' || kind === 'holds' || kind === 'breaks') return "{ behind: 'nginx' }"
    return policy.sends ? '{ when: () => false }' : '{} (the defaults already send no 102 on this path)'
  }
  const fields: string[] = []
  // Proxy signs the default policy cannot vouch for: this measurement is what vouches for them.
  if (policy.reason === 'proxy') fields.push("behind: 'probed'")
  const effective = policy.reason === 'proxy' ? Infinity : policy.limit
  if (limit !== null && (policy.sends || policy.reason === 'proxy') && effective > limit) fields.push(`limit: ${limit}`)
  if (fields.length === 0) return '{} (the defaults fit this path)'
  return `{ ${fields.join(', ')} }`
}
