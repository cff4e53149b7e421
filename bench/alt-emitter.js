// A prototype of another emitter design, for the benchmarks only (HTTP/1.1, automatic 102s only).
//
// The plugin gives every pending request its own Node timer: a Timeout object, re-created by every tick
// (setTimeout with a drift-corrected delay), plus a `res.once('close')` closure. Here, the requests of a
// route share one schedule instead:
//  - Every route's requests wait in two FIFO queues, intrusive doubly-linked lists through the request
//    states: `first` (due at arrival + threshold) and `next` (due at last 102 + interval). A constant
//    delay keeps each queue sorted by due time just by appending, so adding, removing and popping the
//    earliest are all O(1), and there is no heap and no per-request timer.
//  - One Node timer per route is armed for the earliest due time. When it fires it sends every 102 that
//    is due, moves each of those requests to the tail of `next` with a drift-corrected due time
//    (due + interval, never in the past), and re-arms once.
//  - Nothing is registered on the response: onSend unlinks the state. A request whose connection went
//    away is unlinked when its turn comes (the socket is destroyed), at most one interval later.
// Per pending request that is one small object and no allocation per 102.
import fp from 'fastify-plugin'

export const altStats = { sent: 0 }

const kAlt = Symbol('alt-emitter.state')

class Queue {
  head = null
  tail = null

  push (state) {
    state.queue = this
    state.prev = this.tail
    state.next = null
    if (this.tail === null) this.head = state
    else this.tail.next = state
    this.tail = state
  }

  unlink (state) {
    if (state.prev === null) this.head = state.next
    else state.prev.next = state.next
    if (state.next === null) this.tail = state.prev
    else state.next.prev = state.prev
    state.queue = state.prev = state.next = null
  }
}

class State {
  due = 0
  sent = 0
  queue = null
  prev = null
  next = null

  constructor (res) {
    this.res = res
  }
}

class Schedule {
  constructor ({ threshold, interval, limit }) {
    this.threshold = threshold
    this.interval = interval
    this.limit = limit
    this.first = new Queue()
    this.next = new Queue()
    this.timer = null
    this.timerDue = Infinity
    this.fire = this.fire.bind(this)
  }

  add (state) {
    state.due = performance.now() + this.threshold
    this.first.push(state)
    if (state.due < this.timerDue) this.arm(state.due)
  }

  remove (state) {
    if (state.queue !== null) state.queue.unlink(state)
  }

  arm (due) {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerDue = due
    this.timer = setTimeout(this.fire, Math.max(1, due - performance.now())).unref()
  }

  fire () {
    this.timer = null
    this.timerDue = Infinity
    const now = performance.now()
    const { first, next, interval } = this
    for (;;) {
      const a = first.head
      const b = next.head
      const state = a === null ? b : b === null ? a : a.due <= b.due ? a : b
      if (state === null || state.due > now) break
      state.queue.unlink(state)
      const res = state.res
      if (res.headersSent || res.writableEnded || res.destroyed) continue
      res._writeRaw('HTTP/1.1 102 Processing\r\n\r\n', 'latin1')
      altStats.sent++
      if (++state.sent >= this.limit) continue
      const due = state.due + interval
      state.due = due > now ? due : now + interval
      next.push(state)
    }
    const a = first.head
    const b = next.head
    const earliest = a === null ? (b === null ? Infinity : b.due) : b === null ? a.due : Math.min(a.due, b.due)
    if (earliest !== Infinity) this.arm(earliest)
  }
}

function plugin (fastify, options, done) {
  const defaults = { threshold: 1000, interval: 5000, limit: 100, ...options }
  fastify.decorateReply(kAlt, null)
  fastify.addHook('onRoute', (route) => {
    const config = route.config?.processing
    if (config === undefined || config === false) return
    const schedule = new Schedule(config === true ? defaults : { ...defaults, ...config })
    const onRequest = (request, reply, done) => {
      const state = reply[kAlt] = new State(reply.raw)
      schedule.add(state)
      done()
    }
    const onSend = (request, reply, payload, done) => {
      const state = reply[kAlt]
      if (state !== null) schedule.remove(state)
      done(null, payload)
    }
    route.onRequest = [...[route.onRequest ?? []].flat(), onRequest]
    route.onSend = [...[route.onSend ?? []].flat(), onSend]
  })
  done()
}

export default fp(plugin, { fastify: '5.x', name: 'alt-emitter' })
