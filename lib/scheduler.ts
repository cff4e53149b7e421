/**
 * One clock for every waiting request in the process.
 *
 * A timer per request (what this plugin had before) costs a Timeout object and a timer-list insertion on
 * every opted-in request, even one that answers in a millisecond; and when a burst of N requests falls due
 * together, all N callbacks run back to back, blocking the loop for N writes. Re-armed with a different
 * delay each time (drift correction), they also land in different timer lists, so their order within a wave
 * shuffles and the gap between one request's 102s wobbles.
 *
 * Here a waiting request is a node in an intrusive list, one list (a "lane") per delay value, kept in due
 * order. Adding or removing a request is a few pointer writes; one unref'd timer is armed for the earliest
 * due request across lanes. When it fires, due requests are handed out in due order in slices of at most
 * SLICE_MS, with a setImmediate between slices so that I/O gets its turn. A request re-added after its
 * write joins the lane's tail in the order the wave was written, so re-adding is an append too.
 */

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
  head: Slot | null
  tail: Slot | null
}

// Node clamps any timer delay above 2^31 - 1 ms to 1 ms (with only a warning); options refuse longer delays.
export const MAX_DELAY = 2 ** 31 - 1

// Longest run of writes before the loop gets a turn: well inside a 20 ms loop-delay budget.
const SLICE_MS = 5
// libuv's millisecond clock runs up to 1 ms ahead of performance.now(): a timer may fire that much early.
const EARLY = 1

export class Scheduler {
  private readonly lanes = new Map<number, Lane>()
  private timer: NodeJS.Timeout | null = null
  private timerDue = Infinity
  /** A run is under way or queued with setImmediate: it looks at every lane, so no timer is needed meanwhile. */
  private busy = false
  /** How many slots wait in all lanes. */
  size = 0
  /** The longest slice so far, in ms: for benchmarks. */
  longestSlice = 0

  constructor (private readonly fire: (slot: Slot) => void) {}

  /**
   * Puts `slot` in the lane of `delay` at `due`; lanes are kept in due order. A caller that computed `due`
   * from performance.now() passes that reading as `now`: a lone fast request arms the timer every time, and
   * a clock read (~50 ns where the clock is a system call, as on many VMs) costs more than the list work.
   */
  add (slot: Slot, delay: number, due: number, now?: number): void {
    let lane = this.lanes.get(delay)
    if (lane === undefined) {
      lane = { head: null, tail: null }
      this.lanes.set(delay, lane)
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
   * Takes `slot` out of its lane, if it is in one. The timer is left to find nothing while others wait
   * (cheaper than re-arming it on every request), and cleared when none does, so none is left behind.
   */
  remove (slot: Slot): void {
    const lane = slot.lane
    if (lane === null) return
    if (--this.size === 0 && this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
      this.timerDue = Infinity
    }
    if (slot.prev === null) lane.head = slot.next
    else slot.prev.next = slot.next
    if (slot.next === null) lane.tail = slot.prev
    else slot.next.prev = slot.prev
    slot.prev = slot.next = slot.lane = null
  }

  /** Clears the timer when no slot waits, so that nothing is left behind once every app has closed. */
  release (): void {
    if (this.size === 0 && this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
      this.timerDue = Infinity
    }
  }

  private arm (due: number, now: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerDue = due
    const delay = Math.min(MAX_DELAY, Math.max(1, Math.ceil(due - now)))
    this.timer = setTimeout(this.run, delay).unref()
  }

  private earliest (): Slot | null {
    let first: Slot | null = null
    for (const lane of this.lanes.values()) {
      if (lane.head !== null && (first === null || lane.head.due < first.due)) first = lane.head
    }
    return first
  }

  private readonly run = (): void => {
    this.timer = null
    this.timerDue = Infinity
    this.busy = true
    const start = performance.now()
    const limit = start + EARLY
    let slot = this.earliest()
    while (slot !== null && slot.due <= limit) {
      this.remove(slot)
      this.fire(slot)
      slot = this.earliest()
      if (slot !== null && slot.due <= limit && performance.now() - start >= SLICE_MS) {
        this.longestSlice = Math.max(this.longestSlice, performance.now() - start)
        // Not unref()'d: an unref'd immediate does not wake the loop, which then sleeps until the next timer.
        setImmediate(this.run)
        return
      }
    }
    const end = performance.now()
    this.longestSlice = Math.max(this.longestSlice, end - start)
    this.busy = false
    if (slot !== null) this.arm(slot.due, end)
  }
}
