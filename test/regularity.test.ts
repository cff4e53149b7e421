// Proves: 102s are counted from the last write: a slow wave never shortens or stretches the next gap.
import { EventEmitter } from 'node:events'
import t from 'tap'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { kState, scheduler, start, stop, type RequestState } from '../lib/emitter.js'
import { pluginOptions, routeOptions } from '../lib/options.js'
import type { Transport } from '../lib/transport.js'

// The gap between two 102s of one request is what a peer's idle timer sees. This is the emitter's logic
// with a counting transport and no wire: a burst whose first wave writes slowly (as under load) and
// whose second wave writes fast must still get its 102s an interval apart. Each write's gap splits in
// two: how far the schedule put the second 102 from the first write (the emitter's doing, judged here),
// and how late the loop ran it (a pause of this process on a busy machine, which hits every request of
// a wave alike and is only reported).

t.test('a slow wave does not shorten or stretch the next gap: 102s are counted from the last write', async (t) => {
  const n = 200
  const interval = 80
  const log = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }
  const writes = new Map<object, number[]>()
  const dues = new Map<object, number[]>()
  const transport: Transport = {
    received: () => true,
    open: () => true,
    write (res) {
      const list = writes.get(res as object) ?? []
      list.push(performance.now())
      writes.set(res as object, list)
      const due = dues.get(res as object) ?? []
      due.push((res as { state: RequestState }).state.due)
      dues.set(res as object, due)
      // The first wave costs 0.2 ms a write (40 ms in all), the second nothing.
      if (list.length === 1) {
        const until = performance.now() + 0.2
        while (performance.now() < until);
      }
    }
  }
  const options = routeOptions(pluginOptions({}), { threshold: 20, interval, limit: 2 }, 'GET /burst')
  if (options === null) throw new Error('unreachable')
  const states: RequestState[] = []
  for (let i = 0; i < n; i++) {
    const raw = new EventEmitter()
    const request = { raw: { headers: {} }, headers: {}, log } as unknown as FastifyRequest
    const reply = { raw, sent: false, request, elapsedTime: 0, [kState]: null } as unknown as FastifyReply
    const state = start(reply, options, transport)
    Object.assign(raw, { state })
    states.push(state)
  }
  const bothSent = (): boolean => [...writes.values()].filter((w) => w.length === 2).length === n
  for (let waited = 0; waited < 2000 && !bothSent(); waited += 10) await new Promise((resolve) => setTimeout(resolve, 10))
  for (const s of states) stop(s)
  t.equal(scheduler.size, 0)
  const both = [...writes.entries()].filter(([, w]) => w.length === 2)
  t.equal(both.length, n, 'every request got both 102s')
  const sorted = (list: number[]): number[] => list.sort((a, b) => a - b)
  // Counted from the due time, request i's second 102 was scheduled 0.2·i ms early: 20 ms in the median.
  const scheduled = sorted(both.map(([res, [first = 0]]) => Math.abs((dues.get(res)?.[1] ?? Infinity) - first - interval)))
  const median = scheduled[n >> 1] ?? Infinity
  t.ok(median < 1, `second 102 scheduled ${median.toFixed(2)} ms off an interval after the first write, in the median (the slow wave lasted about 40 ms)`)
  const gaps = sorted(both.map(([, [a = 0, b = 0]]) => Math.abs(b - a - interval)))
  t.comment(`gap off the interval on the wire: ${gaps[n >> 1]?.toFixed(1)} ms in the median, pauses of this process included`)
})
