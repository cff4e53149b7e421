// Proves: reply.processing() sends numbers and arrays of numbers and strings as header values; a value
// with a character outside the field-value rule (tab, space, visible ASCII, 0x80–0xff) leaves that header
// out of the 102, warned once per route, and never costs the final response.
import t from 'tap'
import { captureLogs, request, serve } from './helpers.js'

t.test('reply.processing() sends numbers, and arrays of numbers and strings, as header values', async (t) => {
  const { port } = await serve(t, {}, (app) => {
    app.get('/', async (_req, reply) => ({ sent: reply.processing({ step: [1, 2], mixed: ['a', 3], total: 7 }) }))
  })
  const res = await request(port, '/')
  t.equal(res.body, '{"sent":true}')
  t.equal(res.infos.length, 1)
  t.same([res.infos[0]?.headers.step, res.infos[0]?.headers.mixed, res.infos[0]?.headers.total], ['1, 2', 'a, 3', '7'])
})

t.test('a progress text outside Latin-1 leaves its header out of that 102, once warned per route, and the response is a 200', async (t) => {
  const { lines, logger } = captureLogs('warn')
  const { port } = await serve(t, {}, (app) => {
    app.get('/render', async (_req, reply) => {
      const sent = [
        reply.processing({ status: 'Rendering page 2…', step: 2 }),
        reply.processing({ status: ['page 3', 'done ✓'], title: 'Café\tcrème' }),
        reply.processing({ status: 'ok\r\nset-cookie: evil=1' })
      ]
      return { sent }
    })
    app.get('/other', async (_req, reply) => ({ sent: reply.processing({ note: '€' }) }))
    app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ sent: reply.processing({ note: '✓' }) }))
  }, { logger })
  const res = await request(port, '/render')
  t.equal(res.status, 200)
  t.equal(res.body, '{"sent":[true,true,true]}')
  t.equal(res.infos.length, 3)
  t.same(res.infos.map((i) => i.headers.status), [undefined, undefined, undefined], 'the header outside the rule is left out')
  t.equal(res.infos[0]?.headers.step, '2', 'the other headers of that 102 go')
  t.equal(res.infos[1]?.headers.title, 'Café\tcrème', 'Latin-1 and tab go as they are')
  t.notMatch(JSON.stringify(res.headers), /evil/)
  await request(port, '/render')
  t.equal((await request(port, '/other')).status, 200)
  const missing = await request(port, '/nope')
  t.same([missing.status, missing.infos.length, missing.body], [404, 1, '{"sent":true}'])
  const warned = lines.filter((l) => l.code === 'FST_PROCESSING_HEADER_VALUE_DROPPED')
  t.same(warned.map((l) => [l.route, l.header]), [['GET /render', 'status'], ['GET /other', 'note'], ['GET /nope', 'note']],
    'one warning per route (the not-found handler names the path asked for), naming route and header')
  t.match(warned[0]?.msg, /^fastify-processing: route GET \/render sent a 102 without its status header, whose value has a character outside tab, space, visible ASCII and 0x80–0xff \(Latin-1\)/)
})
