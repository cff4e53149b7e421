import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import type { Test } from 'tap'
import processing from '../../index.js'
import { captureLogs, liveTimers, sleep, until } from '../helpers.js'
import { checkResponse, checkReuse, Client, ecoServer, exchange, EXPECTED_102S, http, slow, versionOf, WORK_MS } from './harness.js'
import { neverStuck } from './never-stuck.js'

// Every behaviour that depends on Fastify's version, run by fastify-*.test.ts here on each minor
// users run: 5.0, the last minor before handlerTimeout (5.7), the first with it (5.8) and the latest, each
// the real package (an npm alias), each in its own process so that one minor's crash cannot hide another's
// result. Fastify < 5.8 ignores a handlerTimeout option and has no request.signal: the plugin must read
// neither there, and a route written for 5.8 must still work, without its deadline.

type Factory = (opts?: FastifyServerOptions) => unknown

export function minorChecks (t: Test, alias: string, module: { default: unknown }): void {
  const version = versionOf(alias)
  const fastify = module.default as Factory
  const hasDeadline = 'handlerTimeout' in (fastify() as FastifyInstance).initialConfig

  t.test(`Fastify ${version} (${alias})`, async (t) => {
    t.equal(hasDeadline, !/^5\.[0-7]\./.test(version), `handlerTimeout ${hasDeadline ? 'exists' : 'does not exist'} on ${version}`)

    t.test('registers: fastify-plugin accepts this version for `fastify: 5.x`', async (t) => {
      const app = fastify() as FastifyInstance
      t.teardown(() => app.close())
      await app.register(processing)
      await app.ready()
      t.equal(app.version, version, 'ready, with no FST_ERR_PLUGIN_VERSION_MISMATCH')
    })

    // The handler is slower than the deadline: where Fastify has handlerTimeout, 102s, then its 503;
    // where it has not, the option is ignored: 102s, then the handler's answer. Never a crash.
    const deadlineExpectation = hasDeadline
      ? { status: 503, interims: EXPECTED_102S, what: 'deadline reached' }
      : { status: 200, interims: EXPECTED_102S, body: 'done', what: 'no deadline on this Fastify' }

    t.test('handlerTimeout on the route', async (t) => {
      const { port } = await ecoServer(t, async (app) => {
        await app.register(processing, slow)
        app.get('/work', { handlerTimeout: 400, config: { processing: true } }, async () => {
          await sleep(WORK_MS)
          return 'done'
        })
      }, {}, fastify)
      const { client, res } = await exchange(port, http('GET', '/work'))
      checkResponse(t, res, deadlineExpectation)
      if (hasDeadline) t.match(res.body.toString(), /FST_ERR_HANDLER_TIMEOUT/)
      await checkReuse(t, client, 'route handlerTimeout')
      t.equal(await liveTimers(), 0, 'no timer left')
    })

    t.test('handlerTimeout on the server', async (t) => {
      const { port } = await ecoServer(t, async (app) => {
        await app.register(processing, slow)
        app.get('/work', { config: { processing: true } }, async () => {
          await sleep(WORK_MS)
          return 'done'
        })
      }, { handlerTimeout: 400 } as FastifyServerOptions, fastify)
      const { client, res } = await exchange(port, http('GET', '/work'))
      checkResponse(t, res, deadlineExpectation)
      await checkReuse(t, client, 'server handlerTimeout')
    })

    t.test('the client leaves: request.signal aborts where it exists, and the 102s stop either way', async (t) => {
      const after: Array<{ processing: boolean, aborted: boolean | undefined }> = []
      const { port } = await ecoServer(t, async (app) => {
        await app.register(processing, { threshold: 50, interval: 50 })
        app.get('/leave', { config: { processing: true } }, async (request, reply) => {
          // Read first: Fastify makes the signal on first read, and one made after the client left never aborts.
          const signal = (request as { signal?: AbortSignal }).signal
          await sleep(WORK_MS)
          after.push({ processing: reply.processing(), aborted: signal?.aborted })
          return 'nobody reads this'
        })
      }, {}, fastify)
      const client = await Client.connect(port)
      client.write(http('GET', '/leave'))
      await until(() => client.transcript.includes('102 Processing'), 'the first 102')
      client.socket.destroy()
      await until(() => after.length === 1, 'the handler to finish')
      t.same(after, [{ processing: false, aborted: hasDeadline ? true : undefined }],
        'reply.processing() is false once the client left; request.signal is read only where Fastify has it')
      t.equal(await liveTimers(), 0, 'no timer left')
    })

    t.test('reply.processing() on a route that did not opt in', async (t) => {
      const { port } = await ecoServer(t, async (app) => {
        await app.register(processing, slow)
        app.get('/manual', async (_request, reply) => {
          await sleep(150)
          const sent = reply.processing({ progress: '1/2' })
          await sleep(150)
          return { sent, count: reply.processingSent }
        })
      }, {}, fastify)
      const { client, res } = await exchange(port, http('GET', '/manual'))
      t.same(res.interims.map((i) => [i.status, i.fields]), [[102, [['progress', '1/2']]]], 'one manual 102 with its header')
      t.same([res.status, JSON.parse(res.body.toString())], [200, { sent: true, count: 1 }])
      await checkReuse(t, client, 'manual')
    })

    t.test('the README\'s "Never stuck" snippet, in plain JavaScript', async (t) => {
      const { lines, logger } = captureLogs('debug')
      const rows = [{ id: 1 }, { id: 2 }]
      const signals: Array<AbortSignal | undefined> = []
      const { port } = await ecoServer(t, async (app) => {
        await app.register(processing, slow)
        neverStuck(app, {
          db: {
            async query (_sql, { signal }) {
              signals.push(signal)
              await sleep(WORK_MS, undefined, { signal })
              return rows
            }
          },
          sql: 'select * from exports',
          render: (r) => ({ rows: r })
        })
      }, { logger, handlerTimeout: 120_000 } as FastifyServerOptions, fastify)
      const { client, res } = await exchange(port, http('POST', '/exports'))
      checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: JSON.stringify({ rows }), what: 'exports' })
      t.equal(signals[0] instanceof AbortSignal, hasDeadline, `request.signal is ${hasDeadline ? 'an AbortSignal' : 'undefined'}`)
      await checkReuse(t, client, 'exports')
      // At startup the route says whether anything guarantees it a final response.
      const codes = lines.filter((l) => l.route === 'POST /exports').map((l) => l.code)
      t.equal(codes.includes('FST_PROCESSING_NO_DEADLINE'), !hasDeadline,
        `FST_PROCESSING_NO_DEADLINE ${hasDeadline ? 'not ' : ''}logged: ${codes.join(', ')}`)
    })
  })
}
