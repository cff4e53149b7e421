import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import { createInterface } from 'node:readline'
import type { Test } from 'tap'
import * as undici from 'undici'
import { runtimeCommand } from '../../scripts/runtimes.js'
import { Client, http as head, type Response } from '../ecosystem/harness.js'
import { statusLines, until } from '../helpers.js'
import { needsRuntime } from './needs.js'

// The checks every runtime must pass, from the outside: test/runtimes/app.js (the built plugin on the real
// Fastify) runs under the runtime, and this Node process talks to it on real sockets, with Node's http
// client ('information'), undici (onInfo), Node's http2 client and a raw TCP client that parses every
// byte. Every scenario is measured at once, then each is judged in its own subtest; the graceful close
// comes last, as it ends the app.

export type Runtime = 'node' | 'bun' | 'deno'

interface Ready {
  runtime: string
  schedule: { threshold: number, interval: number, limit: number }
  ports: Record<'main' | 'expect', number> & Partial<Record<'h2c' | 'h2', number>>
  http2: Partial<Record<'h2c' | 'h2', string>>
}

interface Info { status: number, at: number, headers: Record<string, unknown> }
interface Seen { status: number | null, body: string, infos: Info[], error: string | null }

/** Node's http client: each interim response through 'information', timed from the request. */
function information (port: number, path: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve) => {
    const infos: Info[] = []
    const started = performance.now()
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false })
    req.on('information', (info) => infos.push({ status: info.statusCode, at: performance.now() - started, headers: info.headers }))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('latin1').on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? null, body, infos, error: null }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: null, body: '', infos, error: err.code ?? err.message }))
    req.end()
  })
}

/** undici's request(): each interim response through onInfo. */
async function withUndici (port: number, path: string): Promise<Seen> {
  const infos: Info[] = []
  const started = performance.now()
  const dispatcher = new undici.Agent()
  try {
    const res = await undici.request(`http://127.0.0.1:${port}${path}`, {
      dispatcher,
      onInfo: (info) => infos.push({ status: info.statusCode, at: performance.now() - started, headers: info.headers })
    })
    return { status: res.statusCode, body: await res.body.text(), infos, error: null }
  } catch (err) {
    return { status: null, body: '', infos, error: (err as NodeJS.ErrnoException).code ?? String(err) }
  } finally {
    await dispatcher.close()
  }
}

/** Node's http2 client, several streams on one session: interims through each stream's 'headers' event. */
function withHttp2 (origin: string, paths: string[]): Promise<{ error: string | null, results: Seen[] }> {
  return new Promise((resolve) => {
    const session = http2.connect(origin, { rejectUnauthorized: false })
    const results: Seen[] = []
    session.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, results }))
    let pending = paths.length
    const started = performance.now()
    paths.forEach((path, i) => {
      const seen: Seen = { status: null, body: '', infos: [], error: null }
      const stream = session.request({ ':path': path })
      stream.on('headers', (h) => seen.infos.push({ status: Number(h[':status']), at: performance.now() - started, headers: h }))
      stream.on('response', (h) => { seen.status = Number(h[':status']) })
      stream.setEncoding('latin1').on('data', (chunk: string) => { seen.body += chunk })
      stream.on('error', (err: NodeJS.ErrnoException) => { seen.error = err.code ?? err.message })
      stream.on('close', () => {
        results[i] = seen
        if (--pending === 0) session.close(() => resolve({ error: null, results }))
      })
      stream.end()
    })
  })
}

/** A raw exchange: the strict parser reads one response; the connection is kept for the next. */
async function raw (port: number, request: string): Promise<{ client: Client, res: Response }> {
  const client = await Client.connect(port)
  client.write(request)
  return { client, res: await client.read() }
}

/** After a response: no stray byte on the connection, and a second request on it is answered. */
async function reuse (client: Client): Promise<{ stray: number, ping: [number, number, string] }> {
  const stray = client.pending.length
  client.write(head('GET', '/ping'))
  const ping = await client.read()
  client.end()
  return { stray, ping: [ping.interims.length, ping.status, ping.body.toString()] }
}

const bare = (res: Response): number[] => res.interims.map((i) => i.status)

function start (runtime: Runtime): { ready: Promise<Ready>, closed: Promise<unknown>, exited: Promise<unknown[]>, stderr: () => string, end: () => void } {
  const [cmd, args] = runtimeCommand(runtime, new URL('app.js', import.meta.url).pathname)
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<unknown> => {
    const line = await lines.next()
    if (line.done === true) throw new Error(`${runtime} app printed nothing more; stderr: ${stderr}`)
    return JSON.parse(line.value)
  }
  const exited = once(child, 'exit')
  const ready = next() as Promise<Ready>
  return {
    ready,
    closed: ready.then(next),
    exited,
    stderr: () => stderr,
    end: () => child.stdin.end()
  }
}

/** Every check, against `runtime`'s pinned version. A runtime that is not installed is a skip, or under CI a failure. */
export function runtimeChecks (t: Test, runtime: Runtime): void {
  if (!needsRuntime(t, runtime)) return
  const app = start(runtime)

  t.test(`${runtime}: the plugin's wire behaviour`, async (t) => {
    const { runtime: version, schedule, ports, http2: refused } = await app.ready
    t.comment(`${version}; schedule ${JSON.stringify(schedule)}`)
    const { threshold, interval, limit } = schedule
    const origin = (name: 'h2c' | 'h2'): string => `${name === 'h2' ? 'https' : 'http'}://127.0.0.1:${ports[name] ?? 0}`
    const [timed, http10, streamed, pipelined, reused, progress, expectOpen, expectNone, expectAsked, forwarded, h2c, h2] = await Promise.all([
      information(ports.main, '/slow?ms=1000'),
      (async () => {
        const client = await Client.connect(ports.main)
        client.write('GET /slow?ms=700 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
        return client.rest()
      })(),
      raw(ports.main, head('GET', '/streamed')).then(async ({ client, res }) => ({ res, after: await reuse(client) })),
      (async () => {
        const client = await Client.connect(ports.main)
        client.write(head('GET', '/slow?ms=1000') + head('GET', '/slow?ms=300'))
        const first = await client.read()
        const second = await client.read()
        return { first, second, after: await reuse(client) }
      })(),
      raw(ports.main, head('GET', '/slow?ms=1000')).then(async ({ client, res }) => ({ res, after: await reuse(client) })),
      withUndici(ports.main, '/progress'),
      information(ports.main, '/slow?ms=1000', { expect: '102-processing' }),
      information(ports.expect, '/slow?ms=1000'),
      information(ports.expect, '/slow?ms=1000', { expect: '102-processing' }),
      information(ports.main, '/slow?ms=1000', { 'x-forwarded-for': '203.0.113.7' }),
      ports.h2c === undefined ? null : withHttp2(origin('h2c'), ['/slow?ms=1000', '/progress']),
      ports.h2 === undefined ? null : withHttp2(origin('h2'), ['/slow?ms=1000', '/progress'])
    ])
    const threes = Array(limit).fill(102)

    t.test('102s after the threshold, then at the interval, up to the limit (http \'information\')', async (t) => {
      t.same([timed.status, timed.body], [200, 'slow 1000'])
      t.same(timed.infos.map((i) => i.status), threes, `${limit} × 102`)
      // Lower bounds only: a busy machine can make a 102 late, never early (the schedule fires at most a
      // few milliseconds ahead of time, to share a wake-up).
      const at = timed.infos.map((i) => Math.round(i.at))
      t.ok((at[0] ?? 0) >= threshold - 5, `the first after the threshold: ${at.join(', ')} ms`)
      t.ok((at.at(-1) ?? 0) >= threshold + (limit - 1) * interval - 5, `the last after ${limit - 1} intervals: ${at.join(', ')} ms`)
    })

    t.test('none to an HTTP/1.0 request (raw TCP)', async (t) => {
      t.same(statusLines(http10), [200], `status lines: ${statusLines(http10).join(', ')}`)
      t.ok(http10.endsWith('slow 700'), 'the body intact')
    })

    t.test('none after the final headers: a streamed body is not cut by a 102 (raw TCP, strict parser)', async (t) => {
      // One 102 is due before the headers go out at 300 ms (one fewer, on a machine that delays it past
      // them), the other two while the body streams: the strict parser fails on any inside the body.
      t.ok(bare(streamed.res).length < limit && bare(streamed.res).every((s) => s === 102), `102s before the headers only: ${bare(streamed.res).join(', ') || 'none'}`)
      t.same([streamed.res.status, streamed.res.body.toString()], [200, 'headers sent; reply.processing() after them: false'])
      t.same(streamed.after, { stray: 0, ping: [0, 200, 'pong'] }, 'nothing stray after it; the connection is reused')
    })

    t.test('pipelining: two requests in one write, answered in order, each 102 before its own final response', async (t) => {
      t.same([bare(pipelined.first), pipelined.first.status, pipelined.first.body.toString()], [threes, 200, 'slow 1000'])
      // The second request's one 102 is due while the first still answers: it follows the first response.
      t.same([pipelined.second.status, pipelined.second.body.toString()], [200, 'slow 300'])
      t.comment(`${version}: the second request's interims: ${bare(pipelined.second).join(', ') || 'none'}`)
      t.ok(bare(pipelined.second).every((s) => s === 102) && pipelined.second.interims.length <= 1,
        `the second's interims: ${bare(pipelined.second).join(', ') || 'none'}`)
      t.same(pipelined.after, { stray: 0, ping: [0, 200, 'pong'] }, 'then the connection is reused')
    })

    t.test('keep-alive: the connection that carried 102s serves the next request (raw TCP)', async (t) => {
      t.same([bare(reused.res), reused.res.status, reused.res.body.toString()], [threes, 200, 'slow 1000'])
      t.same(reused.res.interims.map((i) => i.raw), threes.map(() => 'HTTP/1.1 102 Processing'), 'bare 102s, no header')
      t.same(reused.after, { stray: 0, ping: [0, 200, 'pong'] })
    })

    t.test('a progress header from reply.processing() (undici onInfo)', async (t) => {
      t.same(progress.infos.map((i) => [i.status, i.headers.progress]), [[102, '1/2'], [102, '2/2']])
      t.same([progress.status, JSON.parse(progress.body)], [200, { written: [true, true], count: 2 }])
    })

    t.test('Expect: 102-processing is let through (no 417), and requireExpect waits for it', async (t) => {
      t.same([expectOpen.status, expectOpen.infos.length], [200, limit], 'no requireExpect: 102s, then the 200')
      t.same([expectNone.status, expectNone.infos.length], [200, 0], 'requireExpect, no Expect: no 102')
      t.same([expectAsked.status, expectAsked.infos.length], [200, limit], 'requireExpect, Expect: 102-processing: 102s')
    })

    t.test('the proxy-sign gate: a request with X-Forwarded-For gets no 102 by default', async (t) => {
      t.same([forwarded.status, forwarded.body, forwarded.infos.length], [200, 'slow 1000', 0])
    })

    for (const [name, result] of [['h2c', h2c], ['h2', h2]] as const) {
      t.test(`HTTP/2 (${name === 'h2' ? 'TLS' : 'h2c'}): HEADERS frames with :status 102, two streams on one session`, async (t) => {
        t.equal(refused[name], undefined, `${version} serves it`)
        if (result === null) return
        t.equal(result.error, null)
        const [slow, manual] = result.results
        t.same([slow?.status, slow?.body, slow?.infos.map((i) => i.status)], [200, 'slow 1000', threes])
        t.same(manual?.infos.map((i) => [i.status, i.headers.progress]), [[102, '1/2'], [102, '2/2']], 'progress headers')
      })
    }
  })

  t.test(`${runtime}: close() with 102s in flight; then the process exits on its own`, async (t) => {
    const { runtime: version, ports, schedule } = await app.ready
    const client = await Client.connect(ports.main)
    client.write(head('GET', '/slow?ms=1000'))
    await until(() => client.transcript.includes('102 Processing'), 'the first 102')
    app.end()
    const res = await client.read()
    t.same([bare(res), res.status, res.body.toString()], [Array(schedule.limit).fill(102), 200, 'slow 1000'],
      'the request in flight keeps its 102s and gets its answer')
    // What the server does with the idle keep-alive connection while it closes differs by runtime (Node
    // keeps it until keepAliveTimeout, Fastify's 72 s); a client that is done ends it, as this one does.
    const connection = res.header('connection') ?? 'no Connection header'
    await until(() => client.closed, 'the server to end the connection', 1000).catch(() => {})
    t.comment(`${version}: the final response says ${connection}; the server ${client.closed ? 'closed' : 'kept'} the connection`)
    client.end()
    const closed = await app.closed as { closed: boolean, sentDuringClose: number, sentAfterClose: number }
    t.same([closed.closed, closed.sentAfterClose], [true, 0],
      `close() resolved (${closed.sentDuringClose} × 102 while it waited for the request), then no 102 in three intervals`)
    const exit = await Promise.race([app.exited, new Promise((resolve) => setTimeout(resolve, 15_000, 'still running'))])
    t.same(exit, [0, null], `the process exited by itself, code 0 (stderr: ${app.stderr().trim() || 'empty'})`)
  })
}
