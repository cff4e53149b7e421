// Proves: beside @fastify/sse, the 102s come before the first event and none inside the stream.
import sseModule, { type fastifySSE } from '@fastify/sse'
import t from 'tap'
import processing from '../../index.js'
import { checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, versionOf, WORK_MS } from './harness.js'

// matrix: @fastify/sse
// An event stream writes its head itself (reply.raw), outside Fastify's send: the 102s go before the
// first event only, and none may land inside the stream, however long it pauses between events.

// The package's module.exports is the plugin wrapped by fastify-plugin; its types describe only the named
// exports, so the ESM default import is typed as the module.
const sse = sseModule as unknown as typeof fastifySSE

t.test(`@fastify/sse ${versionOf('@fastify/sse')}: 102s before the first event, none inside the stream`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    await app.register(sse, { heartbeatInterval: 0 })
    app.get('/events', { sse: true, config: { processing: true } }, async (_request, reply) => {
      await sleep(WORK_MS)
      await reply.sse.send({ id: '1', data: 'first' })
      // Longer than the interval: a 102 would be due now if the stream were not recognised as started.
      await sleep(400)
      await reply.sse.send({ id: '2', event: 'done', data: { rows: 2 } })
      reply.sse.close()
    })
  })
  const { client, res } = await exchange(port, http('GET', '/events', { Accept: 'text/event-stream' }))
  t.same(res.interims.map((i) => [i.status, i.fields.length]), Array(EXPECTED_102S).fill([102, 0]), 'bare 102s before the stream')
  t.equal(res.status, 200)
  t.equal(res.header('content-type'), 'text/event-stream')
  t.equal(res.framing, 'chunked', 'the stream is chunked, so it can end without closing the connection')
  t.equal(res.body.toString(), 'id: 1\ndata: "first"\n\nid: 2\nevent: done\ndata: {"rows":2}\n\n', 'the events, byte-exact')
  await checkReuse(t, client, 'event stream')
})
