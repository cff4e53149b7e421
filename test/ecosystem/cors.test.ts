// Proves: beside @fastify/cors, CORS headers go on the final response only, and a slow preflight gets no 102.
import cors from '@fastify/cors'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/cors
// CORS headers belong to the final response only: on a 102 a browser would have nothing to apply them to.
// A preflight is answered by the CORS plugin itself and must get no 102, even when deciding the origin
// takes longer than the threshold and the plugin is registered with `global: true`.

const body = JSON.stringify({ ok: true })

t.test(`@fastify/cors ${versionOf('@fastify/cors')}: bare 102s, CORS headers on the final response, no 102 to a preflight`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await app.register(cors, {
      // An origin check that takes its time (a lookup in a store), longer than the threshold.
      origin: async (origin: string | undefined) => {
        await sleep(300)
        return origin === 'https://app.example'
      }
    })
    app.post('/jobs', slowly(JSON.parse(body)))
  })

  const origin = { Origin: 'https://app.example' }
  {
    const { client, res } = await exchange(port, http('POST', '/jobs', origin))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body, what: 'CORS request' })
    t.equal(res.header('access-control-allow-origin'), 'https://app.example', 'the final response carries the CORS headers')
    await checkReuse(t, client, 'CORS request')
  }
  {
    const preflight = http('OPTIONS', '/jobs', { ...origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' })
    const { client, res } = await exchange(port, preflight)
    checkResponse(t, res, { status: 204, interims: 0, what: 'preflight' })
    t.equal(res.header('access-control-allow-methods')?.includes('POST'), true, 'the preflight is answered by @fastify/cors')
    await checkReuse(t, client, 'preflight')
  }
})
