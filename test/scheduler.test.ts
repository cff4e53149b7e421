// Proves: the shared clock, without a wire: due order, exact spacing, long waves sliced with I/O between.
import t from 'tap'
import { Scheduler, Slot } from '../lib/scheduler.js'

// The scheduler's logic, without a wire: what order slots fire in, where a late one is inserted, and that
// a long wave is cut into slices with I/O in between. The wire tests show the same through the plugin.

class Named extends Slot {
  constructor (readonly name: string) { super() }
}

const timerOf = (s: Scheduler): NodeJS.Timeout | null => (s as unknown as { timer: NodeJS.Timeout | null }).timer

t.test('slots fire in due order across lanes; one added out of order walks back to its place', async (t) => {
  const fired: string[] = []
  const s = new Scheduler((slot) => { fired.push((slot as Named).name) })
  const now = performance.now()
  s.add(new Named('c'), 30, now + 30)
  s.add(new Named('a'), 30, now + 10) // arrived earlier, behind a slow hook: walks back past c
  s.add(new Named('b'), 20, now + 19)
  s.add(new Named('d'), 30, now + 40)
  s.add(new Named('b2'), 30, now + 20) // between a and c in the same lane
  t.equal(s.size, 5)
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.same(fired, ['a', 'b', 'b2', 'c', 'd'])
  t.equal(s.size, 0)
  t.equal(timerOf(s), null, 'nothing left armed')
})

t.test('re-added at due + interval, each slot keeps its place in the wave and its exact spacing', async (t) => {
  const dues = new Map<string, number[]>()
  const order: string[] = []
  const s: Scheduler = new Scheduler((slot) => {
    const n = slot as Named
    order.push(n.name)
    const list = dues.get(n.name) ?? []
    list.push(n.due)
    dues.set(n.name, list)
    if (list.length < 3) s.add(n, 15, n.due + 15)
  })
  const start = performance.now()
  for (let i = 0; i < 20; i++) s.add(new Named(`r${i}`), 10, start + 10 + i * 0.01)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const names = Array.from({ length: 20 }, (_, i) => `r${i}`)
  t.same(order, [...names, ...names, ...names], 'the same order in every wave')
  for (const [name, list] of dues) t.same(list.map((d) => Math.round(d - (list[0] ?? 0))), [0, 15, 30], `${name}: due times 15 ms apart`)
})

t.test('a wave longer than a slice is cut, and I/O callbacks run in between', async (t) => {
  let fired = 0
  let firedWhenOtherWorkRan = -1
  const s = new Scheduler(() => {
    if (fired++ === 0) setImmediate(() => { firedWhenOtherWorkRan = fired })
    const until = performance.now() + 0.1 // about what writing one 102 costs, 7 times over
    while (performance.now() < until);
  })
  const due = performance.now() + 5
  for (let i = 0; i < 300; i++) s.add(new Slot(), 5, due)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(fired, 300, `every slot fired (${fired})`)
  t.ok(firedWhenOtherWorkRan > 0 && firedWhenOtherWorkRan < 300, `other work ran after ${firedWhenOtherWorkRan} of 300`)
  t.ok(s.longestSlice > 0)
})

t.test('removing the last waiting slot clears the timer; removing twice is harmless', async (t) => {
  const s = new Scheduler(() => t.fail('must not fire'))
  const a = new Slot()
  const b = new Slot()
  s.add(a, 1000, performance.now() + 1000)
  s.add(b, 1000, performance.now() + 1000)
  s.remove(a)
  t.not(timerOf(s), null, 'still armed for b')
  s.remove(b)
  s.remove(b)
  t.equal(timerOf(s), null)
  t.equal(s.size, 0)
})

t.test('a burst whose due times differ by less than a millisecond is appended, not sorted one by one', async (t) => {
  // Requests that start together but were timed from slightly different arrivals (the threshold counts
  // from Fastify's arrival stamp) reach the lane a few microseconds out of order, with the odd one
  // delayed further. Sorting them exactly made a burst of N cost N² steps: 20,000 at once took 1.5 s to
  // start in bench/sim.js, and 100,000 took 74 s.
  let steps = 0
  const counted = (): Slot => {
    const slot = new Slot()
    let prev: Slot | null = null
    Object.defineProperty(slot, 'prev', { get () { steps++; return prev }, set (v: Slot | null) { prev = v } })
    return slot
  }
  const dues: number[] = []
  const s = new Scheduler((slot) => { dues.push(slot.due) })
  const n = 4000
  const base = performance.now() + 30
  let seed = 7
  const jitter = (): number => { seed = (seed * 16807) % 2147483647; return (seed % 1000) / 1000 }
  for (let i = 0; i < n; i++) s.add(counted(), 30, base + jitter() * 0.005 + (i % 500 === 0 ? 3 : 0))
  // A walk passes only the slow ones (8 here, all at the tail): a few steps each, not thousands.
  t.ok(steps / n < 10, `${(steps / n).toFixed(1)} steps back per add (sorted exactly: about ${n / 4})`)
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(dues.length, n, 'every slot fired')
  let latest = -Infinity
  let worst = 0
  for (const due of dues) {
    latest = Math.max(latest, due)
    worst = Math.max(worst, latest - due)
  }
  t.ok(worst <= 1, `none fired behind a slot due more than 1 ms after it (worst ${worst.toFixed(3)} ms)`)
})
