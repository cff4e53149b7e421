// Proves: beside @fastify/sensible, an error after slow work follows its 102s, and an immediate error gets none.
import sensible from '@fastify/sensible'
import t from 'tap'
import processing from '../../index.js'
import { checkResponse, checkReuse, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, versionOf, WORK_MS } from './harness.js'

// matrix: @fastify/sensible
// An error after slow work goes through the error handler: its 102s, then the error, framed as any other
// response; an error thrown at once gets no 102.

t.test(`@fastify/sensible ${versionOf('@fastify/sensible')}: errors after 102s, and at once without`, async (t) => {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await app.register(sensible)
    app.get('/busy', async () => {
      await sleep(WORK_MS)
      throw app.httpErrors.serviceUnavailable('the warehouse is busy')
    })
    app.get('/gone', async (_request, reply) => reply.notFound('no such export'))
  })
  const cases = [
    ['/busy', 503, EXPECTED_102S, { statusCode: 503, error: 'Service Unavailable', message: 'the warehouse is busy' }],
    ['/gone', 404, 0, { statusCode: 404, error: 'Not Found', message: 'no such export' }]
  ] as const
  for (const [path, status, interims, error] of cases) {
    const { client, res } = await exchange(port, http('GET', path))
    checkResponse(t, res, { status, interims, body: JSON.stringify(error), what: path })
    await checkReuse(t, client, path)
  }
})
