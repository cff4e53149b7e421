// Proves: the probe command's verdict through Traffic Server (takes a 102 as final, then waits forever)
// and h2o (drops them, but they reset its timer), Debian's packages, agrees with the test's own raw
// client, and its options line keeps the final response intact behind the same proxy.
// (A file of its own: tap runs files side by side, and these two wait on purpose.)
import t from 'tap'
import { startH2o, startTrafficServer } from './atlas.js'
import { needs } from './needs.js'
import { agrees, optionsKeepFinal, verdict, describe } from './verdicts.js'

t.test('Traffic Server, as installed: takes a 102 as final, and the answer never comes', async (t) => {
  if (!await needs(t, 'traffic_server', 'trafficserver')) return
  const start = (port: number) => startTrafficServer(port)
  const o = await verdict(start)
  t.equal(o.kind, 'final', describe(o))
  t.equal(o.verdict, 'takes a 102 as final: do not send')
  t.same(o.arrived, { seen: 1, sent: 1 }, 'the 102 reaches the client, the 200 never')
  t.match(o.final, /^no final response in the 1\d s since the app answered/)
  t.ok(o.ms < 40_000, `a verdict in ${Math.round(o.ms / 1000)} s, not at the timeout`)
  // Its Via header names it, and its peer row sends none: nothing to declare.
  t.equal(o.options, '{} (the defaults already send no 102 on this path)', 'recognised by its Via header')
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options)
})

t.test('h2o (proxy.timeout.io 1000 ms): drops the 102s, but they reset its timer', async (t) => {
  if (!await needs(t, 'h2o')) return
  const start = (port: number) => startH2o(port, { ioTimeout: 1000 })
  const o = await verdict(start, ['--hold', '3000'])
  t.equal(o.kind, 'drops-resets', describe(o))
  t.match(o.verdict, /^drops them, but they reset its timer: none reached the client, yet held 3\.0 s with 102s it answered, and in silence it failed \(status 502 at 1\.\d s\)$/)
  t.equal(o.exit, 1)
  t.same(o.arrived, { seen: 0, sent: 100 }, 'no 102 reaches an HTTP/1 client')
  t.match(o.hold, { with: 'intact', without: 'status 502', auto: false })
  t.equal(o.options, "{ behind: 'probed' }", 'they do keep the path alive: send them')
  agrees(t, o)
  await optionsKeepFinal(t, start, o.options)
})
