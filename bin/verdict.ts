import { holdRun, intact, trial, type Exchange, type Report, type Settings, type Trial } from './measure.js'

export interface Result {
  url: string
  transport: 'HTTP/1.1' | 'HTTP/2'
  /** null when the probe answered; else why the path could not be measured. */
  unreachable: string | null
  /** What the app saw: its protocol, the proxy signs, what its default policy would do. */
  app: { protocol: string, policy: Report['policy'], headers: Record<string, unknown> } | null
  /** How many 102s reached the client in the last trial that worked, of how many sent. */
  arrived: { seen: number, sent: number } | null
  /** The last count that worked and the first that failed (null: none failed up to `max`). */
  cap: { works: number, fails: number | null, failure: string | null, max: number, steady: boolean } | null
  final: 'intact' | string | null
  keepAlive: { without: boolean, after: boolean | null } | null
  hold: { ms: number, without: string, with: string | null, count: number } | null
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

/** Runs every measurement the command reports, in order, and reads the verdict from them. */
export async function probePath (s: Settings): Promise<Result> {
  const result: Result = {
    url: s.url.href,
    transport: s.http2 ? 'HTTP/2' : 'HTTP/1.1',
    unreachable: null,
    app: null,
    arrived: null,
    cap: null,
    final: null,
    keepAlive: null,
    hold: null,
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
  result.app = { protocol: report.protocol, policy: report.policy, headers: report.headers }
  result.keepAlive = { without: reusedFine(base), after: null }
  if (report.stopped !== null) {
    return decide(result, report.protocol === 'HTTP/1.0' ? 'the app sees HTTP/1.0: no 102 can go on this path' : `no 102 can go on this path: ${report.stopped}`)
  }

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
  for (let count = 1; fails === null; count = Math.min(count * 2, s.max)) {
    fails = await attempt(count)
    if (count === s.max) break
  }
  while (fails !== null && fails.count - works > 1) {
    fails = await attempt(Math.floor((works + fails.count) / 2)) ?? fails
  }
  // The atlas's proof of a cap: N works and N + 1 fails, each seen twice. A failure that does not repeat
  // comes from the clock (a timeout, a slow machine), not from the count.
  let steady = true
  if (fails !== null) {
    const again = await trial(s, fails.count)
    const before = works > 0 ? await trial(s, works) : worked
    steady = !intact(again.main, fails.count) && (works === 0 || intact(before.main, works))
  }
  result.cap = { works, fails: fails?.count ?? null, failure: fails === null ? null : outcome(fails.main, fails.count), max: s.max, steady }
  result.final = works > 0 ? 'intact' : outcome(fails!.main, 1)
  if (works > 0) {
    result.arrived = { seen: worked.main.interims.length, sent: works }
    result.keepAlive.after = reusedFine(worked)
  } else {
    result.arrived = { seen: fails!.main.interims.length, sent: 1 }
  }

  if (s.hold !== null && works > 0) {
    const hold = s.hold
    // About one a second, as many as the path takes: a gap longer than its idle timeout would measure the gap.
    const count = Math.min(works, Math.max(4, Math.ceil(s.hold / 1000) - 1))
    let seen = 0
    const started = performance.now()
    const tick = setInterval(() => {
      const at = ((performance.now() - started) / 1000).toFixed(1)
      s.progress?.(`holding ${at} s of ${(hold / 1000).toFixed(1)} s; 102s seen so far: ${seen} of ${count}`)
    }, 1000)
    try {
      const [without, withThem] = await Promise.all([
        holdRun(s, hold, 0, () => {}),
        holdRun(s, hold, count, () => { seen++ })
      ])
      result.hold = { ms: hold, count, without: outcome(without, 0), with: outcome(withThem, count) }
    } finally {
      clearInterval(tick)
    }
  }
  return decide(result, null)
}

function decide (result: Result, forced: string | null): Result {
  const policy = result.app!.policy
  const cap = result.cap
  const seen = result.arrived?.seen ?? 0
  // Without 102s the path timed out, and with them it did not.
  const keepsAlive = result.hold !== null && result.hold.with === 'intact' && result.hold.without !== 'intact'
  let verdict: string
  let safe = false
  let sendNone = false
  let limit: number | null = null
  if (forced !== null) {
    result.verdict = forced
    result.options = '{} (the plugin sends no 102 on this path; probe again if the app ever sees HTTP/1.1 here)'
    result.exit = 1
    return result
  } else if (!cap!.steady) {
    result.verdict = 'unsteady: the same count worked once and failed once'
    result.options = 'none yet: run again, with a smaller --interval or a longer timeout on the path'
    result.exit = 1
    return result
  } else if (cap!.works === 0) {
    verdict = seen > 0 ? 'takes a 102 as final: do not send' : 'fails at the first 102'
    sendNone = true
  } else if (cap!.fails !== null) {
    verdict = `capped at ${cap!.works}${seen === 0 ? ' (and the 102s do not reach the client)' : ''}`
    limit = cap!.works
  } else if (seen === 0 && !keepsAlive) {
    verdict = 'drops them: they do nothing here'
    sendNone = true
  } else if (result.keepAlive!.without && result.keepAlive!.after === false) {
    verdict = 'breaks the connection after a 102: do not send'
    sendNone = true
  } else if (result.hold !== null && result.hold.with !== 'intact') {
    verdict = 'forwarded, but they do not keep the path alive'
  } else {
    verdict = 'safe'
    safe = true
  }
  result.verdict = verdict
  result.options = optionsLine(policy, { sendNone, limit })
  result.exit = safe ? 0 : 1
  return result
}

/** The one line of plugin options that fits a path, given what the default policy does there already. */
function optionsLine (policy: Report['policy'], { sendNone, limit }: { sendNone: boolean, limit: number | null }): string {
  if (sendNone) {
    // The app's own name for "none here, quietly": the defaults withhold for proxy signs only with a warning.
    return policy.sends || policy.reason === 'proxy' ? "{ behind: 'nginx' } (no 102 on this path, and no warning)" : '{} (the defaults already send no 102 on this path)'
  }
  const fields: string[] = []
  // Proxy signs the default policy cannot vouch for: this measurement is what vouches for them.
  if (policy.reason === 'proxy') fields.push("behind: 'probed'")
  const effective = policy.reason === 'proxy' ? Infinity : policy.limit
  if (limit !== null && (policy.sends || policy.reason === 'proxy') && effective > limit) fields.push(`limit: ${limit}`)
  if (fields.length === 0) return '{} (the defaults fit this path)'
  return `{ ${fields.join(', ')} }`
}
