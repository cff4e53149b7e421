import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import { sentChannel, type SentMessage } from './channels.js'
import { FST_PROCESSING_INVALID_OPTION, describeValue } from './errors.js'
import { decide } from './gate.js'
import { readInteger, readOptionObject } from './options.js'
import { switching, transportFor } from './transport.js'

export interface ResolvedProbe {
  readonly path: string
  /** sha256 of the token: what requests are compared against, in constant time. */
  readonly digest: Buffer
  readonly maxCount: number
  readonly maxTime: number
  readonly maxConcurrent: number
}

type Defaults = Parameters<typeof decide>[1]

const KEYS = ['path', 'token', 'maxCount', 'maxTime', 'maxConcurrent']
const WHERE = 'fastify-processing options'
const MIN_TOKEN = 16
// Shorter than a few milliseconds, 102s only measure the event loop; longer than a minute, a path's idle
// timeout is measured better by `hold`.
const MIN_INTERVAL = 10
const MAX_INTERVAL = 60_000
const DEFAULT_INTERVAL = 1000
const DEFAULT_COUNT = 3
// The probe's own answer must never be taken for credentials it echoes back.
const REDACTED = new Set(['x-probe-token', 'authorization', 'proxy-authorization', 'cookie'])

// A probe's own numbered 102, on the wire: the status line, `x-probe-seq: N` and the blank line.
const SEQ_BYTES = 'HTTP/1.1 102 Processing\r\n\r\n'.length + 'x-probe-seq: \r\n'.length
// Runs the command may ask about (`?status=<id>`): every running one, and the last few that ended.
const KEPT_RUNS = 32
const ID = /^[A-Za-z0-9_-]{1,64}$/
// The command, bundled into one file with no dependency (scripts/bundle-client.js), for a client machine
// where the package is not installed. Built next to dist/bin; the source tree's lib/ finds it in dist/.
const CLIENT = [new URL('../bin/client.mjs', import.meta.url), new URL('../dist/bin/client.mjs', import.meta.url)]

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Validates the `probe` option at registration; null when it is absent (the probe is off). */
export function probeOptions (value: unknown): ResolvedProbe | null {
  if (value === undefined) return null
  const probe = readOptionObject(WHERE, 'probe', value, '{ path, token } or absent', 'probe.', KEYS)
  const { path, token } = probe
  if (typeof path !== 'string' || !/^\/[^?#\s]*$/.test(path)) {
    throw new FST_PROCESSING_INVALID_OPTION(WHERE, 'probe.path', 'a path starting with "/", without query or spaces', describeValue(path))
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN) {
    // The token itself is never echoed: an error message ends up in logs.
    const received = typeof token === 'string' ? `a string of ${token.length} characters` : describeValue(token)
    throw new FST_PROCESSING_INVALID_OPTION(WHERE, 'probe.token', `a string of at least ${MIN_TOKEN} characters`, received)
  }
  return {
    path,
    digest: sha256(token),
    maxCount: readInteger(WHERE, 'probe.maxCount', probe.maxCount, 100, 1, 10_000),
    maxTime: readInteger(WHERE, 'probe.maxTime', probe.maxTime, 600_000, 1000, 3_600_000),
    maxConcurrent: readInteger(WHERE, 'probe.maxConcurrent', probe.maxConcurrent, 4, 1, 64)
  }
}

interface Asked { count: number, interval: number, hold: number }

/** What one run has done so far, for the command's `?status=<id>`: it cannot see through a proxy that holds. */
interface Run { sent: Array<{ seq: number, at: number }>, answered: number | null }

/** The query's parameters, or the 400 message that names the bad one and its range. */
function parse (query: Record<string, unknown>, probe: ResolvedProbe): Asked | string {
  const ranges: Record<keyof Asked, [number, number, number]> = {
    count: [0, probe.maxCount, DEFAULT_COUNT],
    interval: [MIN_INTERVAL, MAX_INTERVAL, DEFAULT_INTERVAL],
    hold: [0, probe.maxTime, 0]
  }
  for (const key of Object.keys(query)) {
    if (!(key in ranges) && key !== 'id') return `unknown parameter "${key}" (known: count, interval, hold, id, status, client)`
  }
  if (query.id !== undefined && (typeof query.id !== 'string' || !ID.test(query.id))) {
    return `id must be 1 to 64 letters, digits, "-" or "_", received ${describeValue(query.id)}`
  }
  const asked: Partial<Asked> = {}
  for (const [key, [min, max, fallback]] of Object.entries(ranges) as Array<[keyof Asked, [number, number, number]]>) {
    const raw = query[key]
    if (raw === undefined) {
      asked[key] = fallback
      continue
    }
    const n = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : NaN
    if (!(n >= min && n <= max)) return `${key} must be an integer from ${min} to ${max}, received ${describeValue(raw)}`
    asked[key] = n
  }
  const { count, interval, hold } = asked as Asked
  if (count * interval > probe.maxTime) {
    return `count × interval must be at most ${probe.maxTime} ms, received ${count} × ${interval} = ${count * interval}`
  }
  return { count, interval, hold }
}

function redactHeaders (headers: FastifyRequest['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(headers)) out[name] = REDACTED.has(name) ? '[redacted]' : value
  return out
}

/**
 * The probe's route. Without the token it is indistinguishable from a path that does not exist; with
 * it, it sends `count` 102s one per `interval` ms (each numbered in `x-probe-seq`), answers no sooner than
 * `hold` ms after it started, and reports what it sent, what it saw, and what the plugin's default policy
 * would have done with this request. `?status=<id>` tells what the run with that `id` has sent so far,
 * and `?client` serves the command as one file.
 */
export function probeRoute (probe: ResolvedProbe, defaults: Defaults): RouteOptions {
  let running = 0
  const runs = new Map<string, Run>()
  return {
    method: 'GET',
    url: probe.path,
    exposeHeadRoute: false,
    // The automatic emitter stays off: the probe sends exactly what it is asked for, nothing else.
    config: { processing: false },
    handler: async function probeHandler (request: FastifyRequest, reply: FastifyReply) {
      const given = request.headers['x-probe-token']
      if (typeof given !== 'string' || !timingSafeEqual(sha256(given), probe.digest)) {
        reply.callNotFound()
        return reply
      }
      const query = request.query as Record<string, unknown>
      if ('client' in query) {
        // The first build that exists: next to this file in dist/, or dist/ seen from the sources.
        const file = await readFile(CLIENT[0]!).catch(() => readFile(CLIENT[1]!))
        return reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(file)
      }
      if ('status' in query) {
        const id = query.status
        return { probe: 'fastify-processing', status: typeof id === 'string' ? runs.get(id) ?? null : null }
      }
      const asked = parse(query, probe)
      if (typeof asked === 'string') {
        return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: asked })
      }
      if (running >= probe.maxConcurrent) {
        reply.header('retry-after', '1')
        return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: `at most ${probe.maxConcurrent} probes at once` })
      }
      const run: Run = { sent: [], answered: null }
      if (typeof query.id === 'string') {
        runs.delete(query.id)
        runs.set(query.id, run)
        // Map order is insertion order: the oldest run goes first.
        if (runs.size > KEPT_RUNS) runs.delete(runs.keys().next().value!)
      }
      running++
      try {
        return await measure(request, reply, asked, defaults, probe, run)
      } finally {
        running--
      }
    }
  }
}

async function measure (request: FastifyRequest, reply: FastifyReply, asked: Asked, defaults: Defaults, probe: ResolvedProbe, run: Run): Promise<object> {
  const started = performance.now()
  const since = (): number => Math.round(performance.now() - started)
  const transport = switching(request.raw) ? null : transportFor(request.raw)
  const sent = run.sent
  const route = `GET ${probe.path}`
  // A client that goes away ends the probe at once: it must hold nothing open for nobody.
  let closed = false
  let wake: (() => void) | null = null
  reply.raw.once('close', () => {
    closed = true
    wake?.()
  })
  const wait = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(done, closed ? 0 : ms)
    function done (): void {
      clearTimeout(timer)
      wake = null
      resolve()
    }
    wake = done
  })
  // Fastify has read the whole request before a GET handler runs, so only the response side can close.
  const what = `HTTP/${request.raw.httpVersion}${request.headers.upgrade === undefined ? '' : ' with Upgrade'}`
  const stopped = transport === null ? `${what}: no interim response may go to this request` : null
  if (transport !== null) {
    for (let seq = 1; seq <= asked.count; seq++) {
      await wait(asked.interval)
      if (closed || !transport.open(reply.raw)) break
      transport.write(reply.raw, [['x-probe-seq', [String(seq)]]])
      sent.push({ seq, at: since() })
      if (sentChannel.hasSubscribers) {
        // Marked as the probe's: a subscriber counting the plugin's own 102s can leave these out.
        sentChannel.publish({ request, reply, route, sent: seq, manual: false, bytes: SEQ_BYTES + String(seq).length, probe: true } satisfies SentMessage)
      }
    }
  }
  const left = asked.hold - since()
  if (left > 0) await wait(left)
  const decision = decide(request, defaults, true)
  run.answered = since()
  return {
    probe: 'fastify-processing',
    protocol: `HTTP/${request.raw.httpVersion}`,
    asked,
    // The app's own bounds: a count the endpoint refuses is not the path's cap.
    limits: { maxCount: probe.maxCount, maxTime: probe.maxTime },
    sent,
    stopped,
    elapsed: run.answered,
    headers: redactHeaders(request.headers),
    policy: { ...decision, sends: decision.limit > 0 }
  }
}
