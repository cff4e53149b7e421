// The load client of the cost benchmark, in its own process: N raw keep-alive connections, one slow
// request at a time on each. It parses the responses itself, so that it sees every 102 and the time it
// arrived. Driven by the parent over IPC:
//   {cmd: 'connect', port, n}            -> {type: 'connected', ms}: n more connections
//   {cmd: 'trim', n}                     -> {type: 'trimmed'}: closes all but the first n
//   {cmd: 'send', path, headers, threshold, interval, expected, timeout} -> {type: 'result', ...} once
//                                        every final response is in (`headers`: CRLF-ended lines)
//   {cmd: 'exit'}
import net from 'node:net'
import { now } from './common.js'

const BATCH = 250
const SEPARATOR = '\r\n\r\n'

const sockets = []
let run = null

function onData (chunk) {
  const conn = this.conn
  const t = now()
  conn.buf += chunk
  for (;;) {
    const end = conn.buf.indexOf(SEPARATOR)
    if (end < 0) return
    const status = Number(conn.buf.slice(9, 12))
    if (status >= 100 && status < 200) {
      if (status === 102) conn.times.push(t)
      else conn.other++
      conn.buf = conn.buf.slice(end + 4)
      continue
    }
    const match = /\r\ncontent-length: *(\d+)/i.exec(conn.buf.slice(0, end))
    const length = match === null ? 0 : Number(match[1])
    if (conn.buf.length < end + 4 + length) return
    const body = conn.buf.slice(end + 4, end + 4 + length)
    conn.buf = conn.buf.slice(end + 4 + length)
    conn.status = status
    try {
      conn.arrival = JSON.parse(body).arrival
    } catch {
      conn.arrival = null
    }
    conn.doneAt = t
    if (run !== null && ++run.done === sockets.length) finish()
  }
}

function onError (err) {
  this.conn.error = err.code ?? err.message
}

function onClose () {
  const conn = this.conn
  if (run !== null && conn.doneAt === 0) {
    conn.error ??= 'closed'
    conn.doneAt = now()
    if (++run.done === sockets.length) finish()
  }
}

async function connect (port, n) {
  const start = now()
  const first = sockets.length
  n += first
  for (let i = first; i < n; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true })
      socket.setEncoding('latin1')
      socket.conn = { buf: '', times: [], other: 0, status: 0, arrival: null, doneAt: 0, error: null }
      socket.on('data', onData)
      socket.on('error', onError)
      socket.on('close', onClose)
      batch.push(new Promise((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      }))
      sockets.push(socket)
    }
    await Promise.all(batch)
  }
  process.send({ type: 'connected', ms: now() - start })
}

function send ({ path, headers, threshold, interval, expected, timeout }) {
  run = { done: 0, path, threshold, interval, expected, start: now() }
  const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`
  for (const socket of sockets) {
    const conn = socket.conn
    conn.buf = ''
    conn.times = []
    conn.other = 0
    conn.status = 0
    conn.arrival = null
    conn.doneAt = 0
    conn.error = null
    socket.write(request)
  }
  // A safety net only: every request normally ends long before.
  run.timer = setTimeout(finish, timeout)
}

function finish () {
  const r = run
  run = null
  clearTimeout(r.timer)
  // `expected` 102s per request (±1: the one due as the handler wakes races with its final response);
  // the k-th (from 0) due at arrival + threshold + k·interval, and read this late at most.
  let ok = 0
  let countOk = 0
  let lateMax = 0
  for (const socket of sockets) {
    const c = socket.conn
    if (c.status === 200 && c.arrival !== null) ok++
    if (Math.abs(c.times.length - r.expected) <= 1 && c.other === 0) countOk++
    if (c.arrival === null) continue
    for (let k = 0; k < c.times.length; k++) lateMax = Math.max(lateMax, c.times[k] - (c.arrival + r.threshold + k * r.interval))
  }
  process.send({ type: 'result', n: sockets.length, ok, countOk, lateMax })
}

process.on('message', (msg) => {
  if (msg.cmd === 'connect') {
    connect(msg.port, msg.n).catch((err) => {
      process.send({ type: 'connected', error: err.code ?? err.message })
    })
  } else if (msg.cmd === 'trim') {
    for (const socket of sockets.splice(msg.n)) socket.destroy()
    process.send({ type: 'trimmed' })
  } else if (msg.cmd === 'send') {
    send(msg)
  } else if (msg.cmd === 'exit') {
    for (const socket of sockets) socket.destroy()
    process.exit(0)
  }
})
