import { performance } from 'node:perf_hooks'

/**
 * One clock for every waiting request in the process: plain numbers in, a callback out.
 *
 * A waiting request is a node in an intrusive list, one list (a "lane") per delay value, kept in due
 * order, so adding or removing one is a few pointer writes. One unref'd timer is armed for the earliest
 * due slot across lanes. When it fires, every slot due within the lane's window of now is handed out in
 * due order, in slices of at most SLICE_MS with a setImmediate between slices so that I/O gets its turn.
 * A slot re-added after its write joins its lane's tail in the order the wave was written, so re-adding is
 * an append too.
 */

/**
 * setTimeout's ceiling: a longer delay overflows, Node warns and fires after 1 ms instead. Options refuse
 * delays above it, and the timer is never armed past it.
 */
export const MAX_DELAY = 2 ** 31 - 1

/** A request's place in the schedule; the emitter's per-request state extends it. */
export class Slot {
  /** When it falls due, on the performance.now() clock. */
  due = 0
  /** The latest `due` of this slot and those ahead of it in its lane when it was added. */
  upTo = 0
  prev: Slot | null = null
  next: Slot | null = null
  lane: Lane | null = null
}

interface Lane {
  readonly delay: number
  head: Slot | null
  tail: Slot | null
  /** How early a slot of this lane may fire to share a wake-up with one due before it. */
  window: number
}

// Longest run of writes before the loop gets a turn: well inside a 20 ms loop-delay budget.
const SLICE_MS = 5
// libuv's millisecond clock runs up to 1 ms ahead of performance.now(): a timer may fire that much early.
const EARLY = 1
// A slot due within a small part of its delay after the one that woke the timer goes out with it: a 102
// due every second needs no millisecond precision, and requests that arrived over a few milliseconds
// would otherwise wake the loop once per millisecond. Capped so that no gap between two 102s is shortened
// by more than a few milliseconds, which a peer's idle timer cannot tell from scheduling noise.
const WINDOW_FRACTION = 1 / 64
const WINDOW_MAX = 4

export class Scheduler {
  private readonly lanes = new Map<number, Lane>()
  // The same lanes, walked on every slot fired: an array needs no iterator, which code not yet optimised
  // allocates on each walk.
  private readonly laneList: Lane[] = []
  // The lane of the last add: a route's requests all join the lane of its threshold, one after another.
  private lastLane: Lane | null = null
  private timer: NodeJS.Timeout | null = null
  private timerDue = Infinity
  /** A run is under way or queued with setImmediate: it looks at every lane, so no timer is needed meanwhile. */
  private busy = false
  /** How many slots wait in all lanes. */
  size = 0

  /** `fire` gets the clock reading taken just before it, to count the slot's next due time from. */
  constructor (private readonly fire: (slot: Slot, now: number) => void) {}

  /**
   * Puts `slot` in the lane of `delay` at `due`; lanes are kept in due order. A caller that computed `due`
   * from performance.now() passes that reading as `now`: a clock read costs more than the list work where
   * the clock is a system call, as on many VMs.
   */
  add (slot: Slot, delay: number, due: number, now?: number): void {
    let lane = this.lastLane
    if (lane === null || lane.delay !== delay) {
      lane = this.lanes.get(delay) ?? this.newLane(delay)
      this.lastLane = lane
    }
    slot.due = due
    slot.lane = lane
    this.size++
    // Almost always appended: requests of one lane arrive in due order. A request whose first due time
    // was counted from its arrival, behind slow hooks, walks back to its place. It stops behind a slot
    // with nothing ahead due more than EARLY after it: a burst whose arrivals were stamped microseconds
    // apart, in any order, is then appended as it comes, where sorting it exactly took N² steps (a
    // slow one among them, ahead by more, is walked past alone). No slot fires more than EARLY late.
    let after = lane.tail
    while (after !== null && after.upTo > due + EARLY) after = after.prev
    slot.upTo = after === null || after.upTo < due ? due : after.upTo
    slot.prev = after
    slot.next = after === null ? lane.head : after.next
    if (slot.next === null) lane.tail = slot
    else slot.next.prev = slot
    if (after === null) lane.head = slot
    else after.next = slot
    if (!this.busy && due < this.timerDue) this.arm(due, now ?? performance.now())
  }

  /**
   * Takes `slot` out of its lane, if it is in one. The timer stays armed: a request that answers at once
   * is usually alone in the schedule, and clearing the timer only to arm it again for the next one cost
   * more than the rest of the request's work here. Left alone, it finds nothing due, and stops; it is
   * unref'd, so it never holds the process open; `release()` clears it at once.
   */
  remove (slot: Slot): void {
    const lane = slot.lane
    if (lane === null) return
    this.size--
    if (slot.prev === null) lane.head = slot.next
    else slot.prev.next = slot.next
    if (slot.next === null) lane.tail = slot.prev
    else slot.next.prev = slot.prev
    slot.prev = slot.next = slot.lane = null
  }

  /**
   * Clears the timer when no slot waits (an app closing), so that nothing of the schedule is left behind;
   * with slots waiting it does nothing, as they belong to other apps of the process. Returns whether the
   * schedule is now empty and unarmed.
   */
  release (): boolean {
    if (this.size !== 0) return false
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
      this.timerDue = Infinity
    }
    return true
  }

  private newLane (delay: number): Lane {
    const lane = { delay, head: null, tail: null, window: Math.max(EARLY, Math.min(WINDOW_MAX, delay * WINDOW_FRACTION)) }
    this.lanes.set(delay, lane)
    this.laneList.push(lane)
    return lane
  }

  private arm (due: number, now: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerDue = due
    const delay = Math.min(MAX_DELAY, Math.max(1, Math.ceil(due - now)))
    this.timer = setTimeout(this.run, delay).unref()
  }

  /** The earliest head that may fire at `now`, its lane's window included. */
  private due (now: number): Slot | null {
    let first: Slot | null = null
    const lanes = this.laneList
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i] as Lane
      const head = lane.head
      if (head !== null && head.due <= now + lane.window && (first === null || head.due < first.due)) first = head
    }
    return first
  }

  private earliest (): Slot | null {
    let first: Slot | null = null
    for (const lane of this.laneList) {
      if (lane.head !== null && (first === null || lane.head.due < first.due)) first = lane.head
    }
    return first
  }

  private readonly run = (): void => {
    this.timer = null
    this.timerDue = Infinity
    this.busy = true
    const start = performance.now()
    let now = start
    let slot = this.due(start)
    while (slot !== null) {
      this.remove(slot)
      this.fire(slot, now)
      slot = this.due(start)
      if (slot === null) break
      now = performance.now()
      if (now - start >= SLICE_MS) {
        // Not unref()'d: an unref'd immediate does not wake the loop, which then sleeps until the next timer.
        setImmediate(this.run)
        return
      }
    }
    this.busy = false
    const next = this.earliest()
    if (next !== null) this.arm(next.due, performance.now())
  }
}
