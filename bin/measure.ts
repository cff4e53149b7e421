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
  /** Called while a hold runs, about once a second. */
  progress?: (line: string) => void
}

/** The JSON the probe answers with (lib/probe-endpoint.ts). */
export interface Report {
  protocol: string
  asked: { count: number, interval: number, hold: number }
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

/** A client that keeps one connection (HTTP/1.1 keep-alive, or one HTTP/2 session) for every request it makes. */
interface Client {
  get (query: Record<string, number>, onInterim?: () => void): Promise<Exchange>
  close (): void
}

function target (s: Settings, query: Record<string, number>): string {
  const url = new URL(s.url)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v))
  return url.pathname + url.search
}

function deadline (s: Settings, query: Record<string, number>): number {
  return (query.count ?? 0) * (query.interval ?? 0) + (query.hold ?? 0) + s.timeout
}

function http1Client (s: Settings): Client {
  const secure = s.url.protocol === 'https:'
  const agent = new (secure ? https : http).Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: !s.insecure })
  return {
    get (query, onInterim) {
      return new Promise((resolve) => {
        const out: Exchange = { status: null, interims: [], report: null, error: null, reused: false }
        const req = (secure ? https : http).request(new URL(target(s, query), s.url), { agent, headers: { 'x-probe-token': s.token } })
        const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })), deadline(s, query))
        const finish = (): void => {
          clearTimeout(timer)
          out.reused = req.reusedSocket
          resolve(out)
        }
        req.on('information', (info) => {
          out.interims.push(Number(info.headers['x-probe-seq'] ?? 0))
          onInterim?.()
        })
        req.on('response', (res) => {
          out.status = res.statusCode ?? null
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => { body += chunk })
          res.on('end', () => {
            out.report = parseReport(body)
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
        const out: Exchange = { status: null, interims: [], report: null, error: null, reused: false }
        const current = open()
        out.reused = used
        used = true
        let body = ''
        let done = false
        const finish = (): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          out.report = out.status === null ? null : parseReport(body)
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
          if (headers[':status'] === 102) {
            out.interims.push(Number(headers['x-probe-seq'] ?? 0))
            onInterim?.()
          }
        })
        stream.on('response', (headers) => { out.status = Number(headers[':status']) })
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

/** One trial: `count` 102s on a fresh connection, then one plain request on the same connection. */
export async function trial (s: Settings, count: number): Promise<Trial> {
  const client = clientFor(s)
  try {
    const main = await client.get({ count, interval: s.interval })
    const next = main.error === null ? await client.get({ count: 0 }) : null
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
