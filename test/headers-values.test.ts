// Proves: reply.processing() sends numbers and arrays of numbers and strings as header values.
import t from 'tap'
import { request, serve } from './helpers.js'

t.test('reply.processing() sends numbers, and arrays of numbers and strings, as header values', async (t) => {
  const { port } = await serve(t, {}, (app) => {
    app.get('/', async (_req, reply) => ({ sent: reply.processing({ step: [1, 2], mixed: ['a', 3], total: 7 }) }))
  })
  const res = await request(port, '/')
  t.equal(res.body, '{"sent":true}')
  t.equal(res.infos.length, 1)
  t.same([res.infos[0]?.headers.step, res.infos[0]?.headers.mixed, res.infos[0]?.headers.total], ['1, 2', 'a, 3', '7'])
})
