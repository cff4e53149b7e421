// Proves: handlerTimeout's 503 follows the 102s cleanly, and no 102 leaves once request.signal aborted.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import http2 from 'node:http2'
import t from 'tap'
import { captureLogs, rawExchange, serve, sleep, statusLines, waiting } from './helpers.js'

// A client that keeps receiving 102s has no reason to give up, so the server must guarantee a final
// response. Fastify >= 5.8's handlerTimeout does (a 503 through the error handler), and request.signal
// aborts at that moment: from then on, no 102 may leave.

const hasHandlerTimeout = 'handlerTimeout' in (await import('fastify')).default().initialConfig

/** A handler that never finishes by itself, and records what reply.processing() said after the abort. */
function stuck (after: boolean[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    request.signal.addEventListener('abort', () => { after.push(reply.processing()) })
    await new Promise(() => {})
  }
}

const routes = (after: boolean[]) => (app: FastifyInstance): void => {
  app.get('/stuck', { handlerTimeout: 300, config: { processing: { threshold: 20, interval: 20 } } }, stuck(after))
  // An error handler that takes its time: a naive emitter would go on sending 102s while it runs.
  app.get('/slow-error', {
    handlerTimeout: 200,
    config: { processing: { threshold: 20, interval: 20 } },
    errorHandler: async (err, _req, reply) => {
      const atAbort = reply.processingSent
      await sleep(150)
      return reply.code(503).send({ atAbort, code: (err as { code?: string }).code })
    }
  }, stuck([]))
}

t.test('handlerTimeout over HTTP/1.1: 102s, then the 503, cleanly; none after the abort', { skip: !hasHandlerTimeout && 'Fastify < 5.8 has no handlerTimeout' }, async (t) => {
  const after: boolean[] = []
  const { port } = await serve(t, {}, routes(after))
  const raw = await rawExchange(port, (s) => s.write('GET /stuck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  const statuses = statusLines(raw)
  t.equal(statuses.at(-1), 503, 'the final response is the 503')
  t.ok(statuses.length >= 5 && statuses.slice(0, -1).every((s) => s === 102), `102s before it: ${statuses.join(' ')}`)
  t.match(raw, /FST_ERR_HANDLER_TIMEOUT/)
  t.same(after, [false], 'reply.processing() returns false once the signal aborted')

  const late = await rawExchange(port, (s) => s.write('GET /slow-error HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  const lateStatuses = statusLines(late)
  // The error handler takes 150 ms to answer: a 102 every 20 ms would go on meanwhile.
  const { atAbort } = JSON.parse(late.slice(late.lastIndexOf('\r\n\r\n') + 4))
  t.equal(lateStatuses.filter((s) => s === 102).length, atAbort, `no 102 while the error handler works: ${lateStatuses.join(' ')}`)
  t.equal(lateStatuses.at(-1), 503)
  t.equal(await waiting(), 0)
})

t.test('handlerTimeout over HTTP/2: 102 HEADERS frames, then the 503', { skip: !hasHandlerTimeout && 'Fastify < 5.8 has no handlerTimeout' }, async (t) => {
  const after: boolean[] = []
  const { port } = await serve(t, {}, routes(after), { http2: true })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.close())
  const frames: number[] = []
  await new Promise<void>((resolve, reject) => {
    const stream = session.request({ ':path': '/stuck' })
    stream.on('headers', (h) => frames.push(Number(h[':status'])))
    stream.on('response', (h) => frames.push(Number(h[':status'])))
    stream.resume()
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  t.equal(frames.at(-1), 503)
  t.ok(frames.length >= 5 && frames.slice(0, -1).every((s) => s === 102), `102s before it: ${frames.join(' ')}`)
  t.same(after, [false])
})

t.test('at ready, each opted route says at most one line: its first problem, or at debug that it has no deadline', async (t) => {
  const { lines, logger } = captureLogs('debug')
  await serve(t, { threshold: 1000, interval: 1500, limit: 10 }, (app) => {
    app.get('/no-deadline', { config: { processing: true } }, async () => 'ok')
    app.get('/plain', async () => 'ok')
    if (hasHandlerTimeout) {
      app.get('/never', { handlerTimeout: 500, config: { processing: true } }, async () => 'ok')
      app.get('/stops-early', { handlerTimeout: 600_000, config: { processing: true } }, async () => 'ok')
      app.get('/fits', { handlerTimeout: 15_000, config: { processing: true } }, async () => 'ok')
      // Past both the handlerTimeout and the connectionTimeout: one mistake, one line.
      app.get('/both', { handlerTimeout: 1000, config: { processing: { threshold: 2500 } } }, async () => 'ok')
    }
    app.get('/slow-interval', { config: { processing: { threshold: 100, interval: 3000 } } }, async () => 'ok')
    app.get('/late-threshold', { config: { processing: { threshold: 3000 } } }, async () => 'ok')
  }, { logger, connectionTimeout: 2000 })
  const said = (route: string): unknown[] => lines.filter((l) => l.route === route).map((l) => l.code)
  t.same(said('GET /no-deadline'), ['FST_PROCESSING_NO_DEADLINE'])
  t.same(said('GET /plain'), [], 'a route that did not opt in: nothing')
  t.same(said('HEAD /no-deadline'), [], 'nothing twice for the HEAD route Fastify adds')
  t.equal(lines.find((l) => l.route === 'GET /no-deadline')?.level, 20, 'no deadline is said at debug: Fastify before 5.8 cannot have one')
  t.same(said('GET /slow-interval'), ['FST_PROCESSING_INTERVAL_PAST_TIMEOUT'])
  t.same(said('GET /late-threshold'), ['FST_PROCESSING_THRESHOLD_PAST_TIMEOUT'])
  t.match(lines.find((l) => l.route === 'GET /slow-interval')?.msg, /every 3000 ms, but the server closes an idle connection after connectionTimeout 2000 ms: lower interval/)
  if (hasHandlerTimeout) {
    t.same(said('GET /never'), ['FST_PROCESSING_NEVER_BEFORE_DEADLINE'])
    t.same(said('GET /stops-early'), ['FST_PROCESSING_STOPS_BEFORE_DEADLINE'])
    t.same(said('GET /fits'), [], '102s until the deadline: nothing to say')
    t.same(said('GET /both'), ['FST_PROCESSING_NEVER_BEFORE_DEADLINE'], 'one line for one mistake')
  }
})

t.test('on a route that did not opt in, reply.processing() also returns false once the signal aborted', { skip: !hasHandlerTimeout && 'Fastify < 5.8 has no handlerTimeout' }, async (t) => {
  const after: boolean[] = []
  const { port } = await serve(t, {}, (app) => {
    app.get('/manual', { handlerTimeout: 100 }, async (request, reply) => {
      after.push(reply.processing())
      request.signal.addEventListener('abort', () => { after.push(reply.processing()) })
      await new Promise(() => {})
    })
  })
  const raw = await rawExchange(port, (s) => s.write('GET /manual HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  t.same(statusLines(raw), [102, 503])
  t.same(after, [true, false])
})
