import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'

/** How the command reaches the probe. */
export interface Settings {
  url: URL
  token: string
  http2: boolean
  insecure: boolean
  /** Milliseconds between the 102s the probe is asked for. */
  interval: number
  /** The highest count tried when the path never fails. */
  max: number
  /** Idle time to exceed (ms), or null for no hold test. */
  hold: number | null
  /** How long one request may take beyond what it asked the probe to spend. */
  timeout: number
  /** Told what the command waits for, each time that changes (the command prints it every few seconds). */
  waiting?: (what: string) => void
}

/** What the endpoint says one run has done so far (`?status=<id>`): its 102s, and when it answered. */
export interface RunStatus { sent: Array<{ seq: number, at: number }>, answered: number | null }

/** The JSON the probe answers with (lib/probe-endpoint.ts). */
export interface Report {
  protocol: string
  asked: { count: number, interval: number, hold: number }
  /** The app's own bounds on what it may be asked for (absent from endpoints older than the status query). */
  limits?: { maxCount: number, maxTime: number }
  sent: Array<{ seq: number, at: number }>
  stopped: string | null
  elapsed: number
  headers: Record<string, unknown>
  policy: { limit: number, reason: string | null, peer: string | null, signs: string[], sends: boolean }
}

/** One request to the probe, as the client saw it. */
export interface Exchange {
  status: number | null
  /** Sequence numbers of the 102s that reached the client (0 for one without `x-probe-seq`). */
  interims: number[]
  report: Report | null
  error: string | null
  /** The request went on a connection an earlier one had used. */
  reused: boolean
  /** Milliseconds from the request to its end: the response's last byte, the error, or the timeout. */
  ms: number
  /** Milliseconds to the first thing that came back (an interim or the response head), or null. */
  firstAt: number | null
  /** What the app said it had done, asked while this exchange took long; null if never asked. */
  app: RunStatus | null
  body: string | null
}

/** Silence this long after the app answered means the path holds what the app sent. */
export const HELD_MS = 2000

/**
 * How long the path held back what the app sent: from the app's answer to the first thing that reached
 * the client (or to the end of the exchange if nothing did), when that is more than HELD_MS; else null.
 */
export function heldFor (e: Exchange): number | null {
  if (e.app === null || e.app.answered === null) return null
  const held = (e.firstAt ?? e.ms) - e.app.answered
  return held > HELD_MS ? held : null
}

/** Two requests on one connection: the probe, then a plain one that shows whether the connection survived. */
export interface Trial { count: number, main: Exchange, next: Exchange | null }

function parseReport (body: string): Report | null {
  try {
    const json = JSON.parse(body)
    return json !== null && json.probe === 'fastify-processing' && Array.isArray(json.sent) ? json as Report : null
  } catch {
    return null
  }
}

type Query = Record<string, number | string>

/** A client that keeps one connection (HTTP/1.1 keep-alive, or one HTTP/2 session) for every request it makes. */
interface Client {
  get (query: Query, onInterim?: () => void): Promise<Exchange>
  close (): void
}

function target (s: Settings, query: Query): string {
  const url = new URL(s.url)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v))
  return url.pathname + url.search
}

// A status query is one small answer: it gets a few seconds, not the whole timeout.
const STATUS_TIMEOUT = 5000

function deadline (s: Settings, query: Query): number {
  if (query.status !== undefined) return STATUS_TIMEOUT
  const n = (key: string): number => typeof query[key] === 'number' ? query[key] : 0
  return n('count') * n('interval') + n('hold') + s.timeout
}

const fresh = (): Exchange => ({ status: null, interims: [], report: null, error: null, reused: false, ms: 0, firstAt: null, app: null, body: null })

function http1Client (s: Settings): Client {
  const secure = s.url.protocol === 'https:'
  const agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: !s.insecure })
  return {
    get (query, onInterim) {
      return new Promise((resolve) => {
        const out = fresh()
        const started = performance.now()
        const arrived = (): void => { out.firstAt ??= Math.round(performance.now() - started) }
        const req = (secure ? https : http).request(new URL(target(s, query), s.url), { agent, headers: { 'x-probe-token': s.token } })
        const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })), deadline(s, query))
        let done = false
        const finish = (): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          out.ms = Math.round(performance.now() - started)
          out.reused = req.reusedSocket
          resolve(out)
        }
        req.on('information', (info) => {
          arrived()
          out.interims.push(Number(info.headers['x-probe-seq'] ?? 0))
          onInterim?.()
        })
        req.on('response', (res) => {
          arrived()
          out.status = res.statusCode ?? null
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => { body += chunk })
          res.on('end', () => {
            out.report = parseReport(body)
            out.body = body
            finish()
          })
          res.on('error', (err: NodeJS.ErrnoException) => { out.error = err.code ?? err.message; finish() })
        })
        req.on('error', (err: NodeJS.ErrnoException) => {
          out.error ??= err.code ?? err.message
          finish()
        })
        req.end()
      })
    },
    close: () => agent.destroy()
  }
}

function http2Client (s: Settings): Client {
  let session: http2.ClientHttp2Session | null = null
  let used = false
  const open = (): http2.ClientHttp2Session => {
    if (session === null || session.destroyed || session.closed) {
      session = http2.connect(s.url.origin, { rejectUnauthorized: !s.insecure })
      session.on('error', () => {})
      used = false
    }
    return session
  }
  return {
    get (query, onInterim) {
      return new Promise((resolve) => {
        const out = fresh()
        const started = performance.now()
        const arrived = (): void => { out.firstAt ??= Math.round(performance.now() - started) }
        const current = open()
        out.reused = used
        used = true
        let body = ''
        let done = false
        const finish = (): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          out.ms = Math.round(performance.now() - started)
          out.report = out.status === null ? null : parseReport(body)
          out.body = body
          resolve(out)
        }
        const fail = (err: NodeJS.ErrnoException): void => {
          out.error ??= err.code ?? err.message
          finish()
        }
        current.once('error', fail)
        const stream = current.request({ ':path': target(s, query), 'x-probe-token': s.token })
        const timer = setTimeout(() => { out.error ??= 'TIMEOUT'; stream.close(http2.constants.NGHTTP2_CANCEL); finish() }, deadline(s, query))
        stream.on('headers', (headers) => {
          arrived()
          if (headers[':status'] === 102) {
            out.interims.push(Number(headers['x-probe-seq'] ?? 0))
            onInterim?.()
          }
        })
        stream.on('response', (headers) => {
          arrived()
          out.status = Number(headers[':status'])
        })
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => { body += chunk })
        stream.on('error', fail)
        stream.on('close', () => {
          current.off('error', fail)
          if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) out.error ??= `stream reset (${stream.rstCode})`
          finish()
        })
        stream.end()
      })
    },
    close: () => { if (session !== null) session.destroy() }
  }
}

const clientFor = (s: Settings): Client => s.http2 ? http2Client(s) : http1Client(s)

/** The probe answered in full, and sent every 102 it was asked for. */
export function intact (e: Exchange, count: number): boolean {
  return e.status === 200 && e.error === null && e.report !== null && e.report.stopped === null && e.report.sent.length === count
}

/**
 * What the endpoint says the run `id` has done, asked on a connection of its own: null when it has not
 * seen that run (yet), undefined when it cannot tell (an endpoint without `?status`, or no answer).
 */
async function statusOf (s: Settings, id: string): Promise<RunStatus | null | undefined> {
  const client = clientFor(s)
  try {
    const e = await client.get({ status: id })
    const json = e.status === 200 && e.body !== null ? JSON.parse(e.body) : null
    return json?.probe === 'fastify-processing' && json.status !== undefined ? json.status : undefined
  } catch {
    return undefined
  } finally {
    client.close()
  }
}

// Once a request has taken this long, the command asks the endpoint what it has sent (then every half second).
const ASK_AFTER = 1500
// 102s reached the client, the app answered this long ago, and the answer did not come: the path took a
// 102 as final (Traffic Server waits forever after it). Waiting on would only spend the 100 s a verdict has.
export const GIVE_UP_AFTER = 15_000
// The app has not seen the request this long after it was sent: the path has not passed it on (nginx with
// proxy_buffering off keeps the connection busy with the 102's "response" until proxy_read_timeout).
export const UNSEEN_AFTER = 10_000
let runs = 0

/**
 * One probe request on `client`, watched: while it takes long, the endpoint is asked what it sent, so
 * that a path holding the 102s back (or the answer) is told from an app that is slow. `what` says, in
 * the command's progress lines, what the request waits for.
 */
async function watched (s: Settings, client: Client, query: Query, what: string, onInterim?: () => void): Promise<Exchange> {
  const id = `${process.pid}-${Date.now().toString(36)}-${++runs}`
  const started = performance.now()
  let app: RunStatus | null = null
  let seen = 0
  let asking = false
  let abandoned: string | null = null
  const tell = (status: RunStatus): void => {
    const now = performance.now() - started
    let line = what
    if (status.answered === null) {
      line += `; the app has sent ${status.sent.length} and still works`
    } else {
      const ago = now - status.answered
      line += `; the app sent ${status.sent.length} and answered ${(ago / 1000).toFixed(0)} s ago, and `
      line += seen > 0
        ? `only ${seen} 102(s) reached us: the path may have taken a 102 as final`
        : `nothing has reached us: the path holds ${status.sent.length > 0 ? 'them' : 'the answer'} back (nginx does, until proxy_read_timeout: 60 s by default)`
      if (seen > 0 && ago > GIVE_UP_AFTER) {
        abandoned = `no final response in the ${(ago / 1000).toFixed(0)} s since the app answered`
        client.close()
      }
    }
    s.waiting?.(line)
  }
  s.waiting?.(what)
  const poll = setInterval(() => {
    if (asking || performance.now() - started < ASK_AFTER) return
    asking = true
    statusOf(s, id).then((status) => {
      asking = false
      if (status === undefined) return
      if (status !== null) {
        app = status
        tell(status)
        return
      }
      const now = performance.now() - started
      s.waiting?.(`${what}; the app has not seen it yet`)
      if (now > UNSEEN_AFTER && abandoned === null) {
        abandoned = `the path did not pass it on to the app in ${(now / 1000).toFixed(0)} s`
        client.close()
      }
    })
  }, 500)
  try {
    const e = await client.get({ ...query, id }, () => {
      seen++
      onInterim?.()
    })
    // A request that ended on its own after a long silence: what the app had done by then decides.
    if (e.ms > ASK_AFTER && (app === null || (app as RunStatus).answered === null)) app = await statusOf(s, id) ?? app
    e.app = app
    if (abandoned !== null) e.error = abandoned
    return e
  } finally {
    clearInterval(poll)
  }
}

/** One trial: `count` 102s on a fresh connection, then one plain request on the same connection. */
export async function trial (s: Settings, count: number, interval = s.interval): Promise<Trial> {
  const client = clientFor(s)
  try {
    const main = await watched(s, client, { count, interval }, `probe with ${count} 102(s), one every ${interval} ms`)
    const next = main.error === null ? await watched(s, client, { count: 0 }, 'a plain request on the same connection, after the 102s') : null
    return { count, main, next }
  } finally {
    client.close()
  }
}

/** One request holding the path `hold` ms: silent, or with `count` 102s spread over it. */
export async function holdRun (s: Settings, hold: number, count: number, onInterim: () => void): Promise<Exchange> {
  const client = clientFor(s)
  try {
    const interval = count === 0 ? s.interval : Math.max(10, Math.floor(hold / (count + 1)))
    return await client.get({ count, interval, hold }, onInterim)
  } finally {
    client.close()
  }
}
