// Proves: `interval: 2 ** 31 - 1`, the documented maximum, never turns into a 102 every millisecond.
import Fastify from 'fastify'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import processing from '../../index.js'

// Found by test/fuzz/options.test.ts (TimeoutOverflowWarning on stderr): `interval: 2 ** 31 - 1` is
// accepted (the documented maximum), but lib/emitter.ts arm() passes `due - performance.now()` to
// setTimeout. A timer fires on libuv's millisecond clock, which is often up to 1 ms ahead of when
// performance.now() reaches `due`; the tick after the first 102 then computes a delay of
// interval + (that fraction) > 2^31 - 1, Node warns and uses 1 ms instead, and the request gets a 102
// every millisecond up to `limit` instead of one. Whether a tick fires early is up to the clocks, so
// this sends a few requests: on an idle loop most of them show it.
t.test('interval: 2^31 - 1 never turns into a 102 every millisecond', async (t) => {
  const warnings: string[] = []
  const onWarning = (w: Error) => { if (w.name === 'TimeoutOverflowWarning') warnings.push(w.message) }
  process.on('warning', onWarning)
  t.teardown(() => { process.off('warning', onWarning) })

  const app = Fastify()
  await app.register(processing, { threshold: 10, interval: 2 ** 31 - 1, limit: 5 })
  app.get('/', { config: { processing: true } }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 60))
    return 'ok'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo

  const counts: number[] = []
  for (let i = 0; i < 20; i++) {
    let interims = 0
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.resume()
        res.on('end', () => resolve())
      })
      req.on('information', () => { interims++ })
      req.on('error', reject)
    })
    counts.push(interims)
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.same(counts, Array(20).fill(1), 'each request: one 102 at the threshold, the next one due in 24.8 days')
  t.same(warnings, [], 'no TimeoutOverflowWarning')
})
