#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { probePath, type Result } from './verdict.js'

const USAGE = `Usage: fastify-processing probe <url> --token <token> [options]

Measures what the path between you and the app does with 102 Processing, through the app's probe
endpoint (the plugin's \`probe: { path, token }\` option).

  --token <token>    the probe's token (or FASTIFY_PROCESSING_PROBE_TOKEN)
  --http2            HTTP/2 (h2 over https:, prior knowledge over http:)
  --insecure         accept a self-signed certificate
  --hold <ms>        also hold the path this long, with 102s and without: pick more than its idle timeout
                     (done anyway, for 35 s, when no 102 reaches the client)
  --interval <ms>    between the 102s of each trial (default 25)
  --max <n>          the highest count tried (default 100, the plugin's default limit; never more than
                     the app's own probe.maxCount)
  --timeout <ms>     how long one request may take beyond what it asked for (default 90000: past nginx's
                     60 s proxy_read_timeout, so that a path holding 102s is seen as it is)
  --json             print the result as JSON (and no progress lines)
  --version          print the version and exit

Exit codes: 0 safe, 1 unsafe or limited, 2 unreachable, 64 usage.`

// A line at least this often while the command waits (the brief: every 5 s at most).
const PROGRESS_MS = 4000

function usage (problem: string): never {
  process.stderr.write(`${problem}\n\n${USAGE}\n`)
  process.exit(64)
}

function readInteger (name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!(n >= min && n <= max)) usage(`--${name} must be an integer from ${min} to ${max}, received ${JSON.stringify(value)}`)
  return n
}

function table (r: Result): string {
  const rows: Array<[string, string]> = [['path', `${r.url} (${r.transport})`]]
  if (r.app !== null) {
    const p = r.app.policy
    const signs = p.signs.length > 0 ? `proxy signs: ${p.signs.join(', ')}` : 'no proxy sign'
    rows.push(['app saw', `${r.app.protocol}, ${signs}`])
    if (r.app.maxCount !== null && r.cap !== null && r.cap.max === r.app.maxCount) rows.push(['app allows', `at most ${r.app.maxCount} 102s per probe (probe.maxCount): not the path's cap`])
    const why = p.reason === null ? '' : p.reason === 'peer' ? ` (peer: ${p.peer})` : ` (${p.reason})`
    rows.push(['default policy', p.sends ? `sends up to ${p.limit}${why}` : `sends none${why}`])
  }
  if (r.arrived !== null) rows.push(['102s reach client', `${r.arrived.seen} of ${r.arrived.sent}`])
  if (r.cap !== null) {
    rows.push(['count that works', r.cap.fails === null ? `every one up to ${r.cap.max}` : `${r.cap.works}; ${r.cap.fails} fails: ${r.cap.failure}`])
  }
  if (r.held !== null) rows.push(['held back', `${(r.held.ms / 1000).toFixed(1)} s after the app answered (it had sent ${r.held.sent}; ${r.held.reached} reached the client)`])
  if (r.deadline !== null) rows.push(['deadline', `about ${(r.deadline.ms / 1000).toFixed(1)} s after the request (${r.deadline.seen}), seen by the ${r.deadline.by === 'hold' ? 'hold' : 'same count at twice the interval'}`])
  if (r.final !== null) rows.push(['final response', r.final])
  if (r.keepAlive !== null) {
    const word = (ok: boolean): string => ok ? 'works' : 'fails'
    rows.push(['keep-alive reuse', r.keepAlive.after === null ? `${word(r.keepAlive.without)} (no 102 sent)` : `${word(r.keepAlive.after)} after 102s; ${word(r.keepAlive.without)} without`])
  }
  if (r.hold !== null) {
    const note = r.hold.with === 'intact' && r.hold.without === 'intact' ? ' (the path did not time out: hold longer than its idle timeout)' : ''
    rows.push([`hold ${r.hold.ms} ms${r.hold.auto ? ' (auto)' : ''}`, `with ${r.hold.count} 102s: ${r.hold.with}; without: ${r.hold.without}${note}`])
  }
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
  if (r.unreachable !== null) return `${lines.join('\n')}\nunreachable: ${r.unreachable}\n`
  return `${lines.join('\n')}\nverdict: ${r.verdict}\noptions: ${r.options}\n`
}

async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        token: { type: 'string' },
        http2: { type: 'boolean', default: false },
        insecure: { type: 'boolean', default: false },
        hold: { type: 'string' },
        interval: { type: 'string' },
        max: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false }
      }
    })
  } catch (err) {
    usage((err as Error).message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (values.version) {
    // Read when asked, from the package this file ships in (dist/bin/ → the package's root).
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    process.stdout.write(`${pkg.version}\n`)
    return 0
  }
  const [command, address, ...extra] = positionals
  if (command !== 'probe') usage(command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}`)
  if (address === undefined || extra.length > 0) usage('give exactly one <url>')
  let url: URL
  try {
    url = new URL(address)
  } catch {
    usage(`not a URL: ${JSON.stringify(address)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') usage(`not an http: or https: URL: ${address}`)
  const token = values.token ?? process.env.FASTIFY_PROCESSING_PROBE_TOKEN
  if (token === undefined || token === '') usage('missing --token (or FASTIFY_PROCESSING_PROBE_TOKEN)')
  const settings = {
    url,
    token,
    http2: values.http2,
    insecure: values.insecure,
    hold: values.hold === undefined ? null : readInteger('hold', values.hold, 0, 100, 3_600_000),
    interval: readInteger('interval', values.interval, 25, 10, 60_000),
    max: readInteger('max', values.max, 100, 1, 10_000),
    timeout: readInteger('timeout', values.timeout, 90_000, 100, 3_600_000)
  }
  // What the command waits for, printed every few seconds while it runs (never with --json: its output
  // is for scripts).
  let waiting = 'the probe\'s first answer'
  const started = performance.now()
  const ticker = values.json
    ? undefined
    : setInterval(() => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0)} s] waiting for ${waiting}\n`), PROGRESS_MS)
  let result: Result
  try {
    result = await probePath({ ...settings, waiting: (what) => { waiting = what } })
  } finally {
    clearInterval(ticker)
  }
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : table(result))
  return result.exit
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 2
})
