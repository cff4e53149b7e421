// Proves: beside @fastify/under-pressure, a 503 for load shedding gets no 102.
import underPressure from '@fastify/under-pressure'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, slow, slowly, until, versionOf } from './harness.js'

// matrix: @fastify/under-pressure
// A server under pressure sheds load with a 503 before the handler: that 503 comes alone, while a request
// admitted before gets its 102s.

t.test(`@fastify/under-pressure ${versionOf('@fastify/under-pressure')}: 102s while healthy, none on the 503`, async (t) => {
  let healthy = true
  let checks = 0
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await app.register(underPressure, {
      healthCheck: async () => { checks++; return healthy },
      healthCheckInterval: 20,
      pressureHandler: undefined
    })
    app.get('/work', slowly('done'))
  })
  {
    const { client, res } = await exchange(port, http('GET', '/work'))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: 'done', what: 'healthy' })
    await checkReuse(t, client, 'healthy')
  }
  healthy = false
  const seen = checks
  await until(() => checks > seen + 1, 'the health check to run again')
  {
    const { client, res } = await exchange(port, http('GET', '/work'))
    checkResponse(t, res, { status: 503, interims: 0, what: 'under pressure' })
    t.match(JSON.parse(res.body.toString()), { statusCode: 503 }, 'the 503 body is whole')
    client.end()
  }
})
