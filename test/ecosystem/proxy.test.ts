// Proves: with @fastify/reply-from and @fastify/http-proxy, the plugin works on both sides of a Fastify proxy.
import httpProxy from '@fastify/http-proxy'
import replyFrom from '@fastify/reply-from'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/reply-from @fastify/http-proxy
// The plugin on both sides of a Fastify proxy: the upstream's 102s reach the proxy's client (undici),
// which must skip them and read the final response; the proxy's own 102s keep its client's connection
// alive meanwhile; and the proxied body arrives byte-exact.

const payload = JSON.stringify({ report: 'x'.repeat(20_000) })

async function upstream (t: Parameters<typeof ecoServer>[0], sent: number[]): Promise<number> {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, slow)
    app.addHook('onResponse', async (_request, reply) => {
      if (reply.request.url === '/slow') sent.push(reply.processingSent)
    })
    app.get('/slow', { config: { processing: true } }, slowly(() => JSON.parse(payload)))
  })
  return port
}

t.test(`@fastify/reply-from ${versionOf('@fastify/reply-from')} and @fastify/http-proxy ${versionOf('@fastify/http-proxy')}: the plugin on both sides`, async (t) => {
  const sent: number[] = []
  const base = `http://127.0.0.1:${await upstream(t, sent)}`
  const { port } = await ecoServer(t, async (app: FastifyInstance) => {
    await app.register(processing, slow)
    await app.register(replyFrom, { base })
    app.get('/from', { config: { processing: true } }, (_request, reply) => reply.from('/slow'))
    await app.register(httpProxy, { upstream: base, prefix: '/api', config: { processing: true } })
  })
  for (const path of ['/from', '/api/slow']) {
    const { client, res } = await exchange(port, http('GET', path))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: payload, what: path })
    await checkReuse(t, client, path)
  }
  // Neither plugin adds a Forwarded or X-Forwarded-* header by default: the upstream sees a plain client.
  t.same(sent, [EXPECTED_102S, EXPECTED_102S], 'the upstream sent its 102s to the proxy, which skipped them')
})
