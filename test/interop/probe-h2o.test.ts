// Proves: h2o as installed (proxy.timeout.io at its default 30 s) gets "drops them, but they reset its
// timer" from the command with its default flags: no 102 reaches the client, so it holds the path 35 s on
// its own, with 102s and without, and says both.
// (A file of its own: the hold takes 35 s while tap runs the other files.)
import t from 'tap'
import { startH2o } from './atlas.js'
import { needs } from './needs.js'
import { agrees, describe, verdict } from './verdicts.js'

t.test('h2o as installed, default flags: drops them, but they reset its timer, within 100 s', async (t) => {
  if (!await needs(t, 'h2o')) return
  const o = await verdict((port) => startH2o(port))
  t.equal(o.kind, 'drops-resets', describe(o))
  t.match(o.verdict, /^drops them, but they reset its timer: none reached the client, yet held 35 s with 102s it answered, and in silence it failed \(status 502 at 3\d s\)$/)
  t.match(o.hold, { auto: true, with: 'intact', without: 'status 502' })
  t.same(o.arrived, { seen: 0, sent: 100 })
  t.ok(o.ms < 100_000, `a verdict in ${Math.round(o.ms / 1000)} s`)
  t.equal(o.options, "{ behind: 'probed' }")
  agrees(t, o)
})
