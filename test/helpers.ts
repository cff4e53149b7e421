import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import { createHook } from 'node:async_hooks'
import http from 'node:http'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Writable } from 'node:stream'
import type { Test } from 'tap'
import processing, { type FastifyProcessingOptions } from '../index.js'
import { scheduler } from '../lib/emitter.js'

export { sleep }

export interface Interim {
  status: number
  headers: http.IncomingHttpHeaders
  /** ms since the request was sent */
  at: number
}

export interface Result {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  infos: Interim[]
  /** ms since the request was sent, when the final headers arrived */
  at: number
}

/** A real server on a loopback port with the plugin registered (unless `options` is null). */
export async function serve (
  t: Test,
  options: FastifyProcessingOptions | null,
  routes: (app: FastifyInstance) => void,
  // Plain, https or http2 server options: Fastify's overloads type each kind apart.
  serverOptions: FastifyServerOptions & { http2?: boolean, https?: object } = {}
): Promise<{ app: FastifyInstance, port: number }> {
  const app = Fastify(serverOptions as FastifyServerOptions) as unknown as FastifyInstance
  if (options !== null) await app.register(processing, options)
  routes(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return { app, port: (app.server.address() as net.AddressInfo).port }
}

/** One request with Node's client, recording every interim response with its headers. */
export function request (
  port: number,
  path: string,
  init: { method?: string, headers?: http.OutgoingHttpHeaders, body?: string, agent?: http.Agent } = {}
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const infos: Interim[] = []
    const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? false })
    req.on('information', (info) => infos.push({ status: info.statusCode, headers: info.headers, at: performance.now() - started }))
    req.on('response', (res) => {
      const at = performance.now() - started
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, infos, at }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** How many 102s one request to `path` got, with these request headers. */
export async function interimsFor (port: number, headers: Record<string, string>, path = '/slow'): Promise<number> {
  return (await request(port, path, { headers })).infos.length
}

/** Everything a raw TCP client reads until the server closes the connection or `done(text)` says so. */
export function rawExchange (port: number, send: (socket: net.Socket) => void, done: (text: string) => boolean = () => false): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    const socket = net.connect(port, '127.0.0.1', () => send(socket))
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      text += chunk
      if (done(text)) socket.end()
    })
    socket.on('error', reject)
    socket.on('close', () => resolve(text))
  })
}

/** Waits, polling, until `check()` holds; fails loudly rather than hanging. */
/**
 * An opted-in GET route whose handler outlives its client by `ms`: the reply it was given, and whether the
 * server saw the response close. What the plugin does after a client leaves is read from both.
 */
export function outlivedRoute (app: FastifyInstance, path: string, ms: number): { reply: FastifyReply, closed: boolean } {
  const seen = { reply: undefined as unknown as FastifyReply, closed: false }
  app.get(path, { config: { processing: true } }, async (_req, reply) => {
    seen.reply = reply
    reply.raw.on('close', () => { seen.closed = true })
    await sleep(ms)
    return 'too late'
  })
  return seen
}

/** An HTTP/1.1 GET that `leave` destroys when it sees fit; settles once the client side has closed. */
export function abandonedRequest (port: number, path: string, leave: (req: http.ClientRequest) => void): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false })
    leave(req)
    req.on('error', () => resolve())
    req.on('close', () => resolve())
  })
}

export async function until (check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

/** Status codes of every response head in a raw HTTP/1.x byte stream, in order. */
export function statusLines (text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]))
}

const ours = new Set<number>()
createHook({
  init (id, type) {
    // Only timers armed by the plugin's scheduler, ref'd or not (getActiveResourcesInfo skips unref'd ones).
    if ((type === 'Timeout' || type === 'Immediate') && new Error().stack?.includes('lib/scheduler.')) ours.add(id)
  },
  destroy (id) { ours.delete(id) }
}).enable()

/**
 * The plugin's requests still waiting in its schedule. The schedule's one timer may outlive the last of
 * them until it falls due (it is unref'd, and finds nothing), so "nothing left" is this count, and
 * liveTimers() once the app has closed.
 */
export async function waiting (): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve))
  return scheduler.size
}

/** The plugin's timers alive now: armed and neither fired nor cleared. */
export async function liveTimers (): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve)) // destroy hooks are reported asynchronously
  return ours.size
}

/** A logger that keeps every line it writes. */
export function captureLogs (level = 'trace'): { lines: Array<Record<string, unknown>>, logger: { level: string, stream: Writable } } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb() }
  })
  return { lines, logger: { level, stream } }
}
