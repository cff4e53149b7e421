// A strict, incremental HTTP/1.x response parser for one client connection (RFC 9112). It knows which
// requests were sent on the connection, in order, and hands every interim and final response to the
// request it belongs to. Anything a conforming server would not send is a framing error: there is no
// leniency (no bare LF, no obs-fold, no invalid chunk size, no body bytes beyond the framing).

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d) ([\t \x21-\x7e\x80-\xff]*)$/
const FIELD_VALUE = /^[\t \x21-\x7e\x80-\xff]*$/
const CHUNK_SIZE = /^([0-9a-fA-F]{1,8})(?:;[\t \x21-\x7e\x80-\xff]*)?$/
const MAX_HEAD = 64 * 1024

export class FramingError extends Error {}

/**
 * `onInterim(request, { status, headers })`, `onFinal(request, { status, headers, body, version })`;
 * a framing error throws out of `push()`/`end()` as a FramingError, and the parser is then dead.
 * Each request passed to `expect()` needs `method` ('GET', 'HEAD', ...).
 */
export class ResponseParser {
  constructor ({ onInterim, onFinal }) {
    this.onInterim = onInterim
    this.onFinal = onFinal
    this.pending = []
    this.buf = Buffer.alloc(0)
    this.state = 'head'
    this.current = null
    this.closed = false
    this.dead = false
    this.bytes = 0
  }

  /** A request was written on the connection: its response comes after those of earlier ones. */
  expect (request) {
    this.pending.push(request)
  }

  fail (message) {
    this.dead = true
    throw new FramingError(message)
  }

  push (chunk) {
    if (this.dead) return
    this.bytes += chunk.length
    if (this.closed) this.fail(`${chunk.length} bytes after a response that closed the connection: ${show(chunk)}`)
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    while (this.step());
  }

  /** The peer closed the connection. Returns the requests left without a final response. */
  end () {
    if (this.dead) return this.pending
    if (this.state === 'eof-body') {
      const { request, head } = this.current
      this.complete(request, head, Buffer.concat(this.current.parts))
    } else if (this.state !== 'head' || this.buf.length > 0) {
      // A message cut short by the close: the caller decides if that request was aborted on purpose.
      this.unfinished = { state: this.state, bytes: this.buf.length }
    }
    return this.pending
  }

  /** Parses one unit (a head, a body piece, a chunk); returns whether it made progress. */
  step () {
    switch (this.state) {
      case 'head': return this.head()
      case 'length-body': return this.lengthBody()
      case 'chunk-size': return this.chunkSize()
      case 'chunk-data': return this.chunkData()
      case 'trailers': return this.trailers()
      case 'eof-body':
        this.current.parts.push(this.buf)
        this.buf = Buffer.alloc(0)
        return false
      default: return false
    }
  }

  line () {
    const i = this.buf.indexOf('\r\n')
    if (i === -1) {
      if (this.buf.length > MAX_HEAD) this.fail('line too long')
      return null
    }
    const text = this.buf.subarray(0, i).toString('latin1')
    if (text.includes('\n') || text.includes('\r')) this.fail(`bare CR or LF in ${show(text)}`)
    this.buf = this.buf.subarray(i + 2)
    return text
  }

  head () {
    if (this.buf.length === 0) return false
    const end = this.buf.indexOf('\r\n\r\n')
    if (end === -1) {
      if (this.buf.length > MAX_HEAD) this.fail('response head too long')
      // Fail early on garbage: a head must start with the HTTP version.
      const start = this.buf.subarray(0, 5).toString('latin1')
      if (!'HTTP/'.startsWith(start)) this.fail(`expected a status line, got ${show(this.buf)}`)
      return false
    }
    const text = this.buf.subarray(0, end).toString('latin1')
    this.buf = this.buf.subarray(end + 4)
    const [statusLine, ...lines] = text.split('\r\n')
    const m = STATUS_LINE.exec(statusLine)
    if (m === null) this.fail(`invalid status line ${show(statusLine)}`)
    const headers = []
    for (const line of lines) {
      if (line.includes('\n') || line.includes('\r')) this.fail(`bare CR or LF in ${show(line)}`)
      const colon = line.indexOf(':')
      const name = line.slice(0, colon)
      if (colon <= 0 || !TOKEN.test(name)) this.fail(`invalid header line ${show(line)}`)
      const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '')
      if (!FIELD_VALUE.test(value)) this.fail(`invalid header value ${show(line)}`)
      headers.push([name.toLowerCase(), value])
    }
    const head = { version: `1.${m[1]}`, status: Number(m[2]), reason: m[3], headers }
    const request = this.pending[0]
    if (request === undefined) this.fail(`response ${head.status} with no request outstanding`)
    if (head.status < 200) {
      if (head.status === 101) this.fail('101 Switching Protocols was never asked for')
      this.onInterim(request, head)
      return true
    }
    return this.framing(request, head)
  }

  framing (request, head) {
    const get = (name) => head.headers.filter(([n]) => n === name).map(([, v]) => v)
    const te = get('transfer-encoding')
    const cl = get('content-length')
    const connection = get('connection').join(',').toLowerCase().split(/\s*,\s*/)
    head.close = connection.includes('close') || (head.version === '1.0' && !connection.includes('keep-alive'))
    this.current = { request, head, parts: [], left: 0 }
    if (request.method === 'HEAD' || head.status === 204 || head.status === 304) {
      this.complete(request, head, Buffer.alloc(0))
      return true
    }
    if (te.length > 0) {
      if (cl.length > 0) this.fail('both transfer-encoding and content-length')
      if (head.version === '1.0') this.fail('transfer-encoding on an HTTP/1.0 response')
      if (te.join(',').toLowerCase().trim() !== 'chunked') this.fail(`unexpected transfer-encoding ${te}`)
      this.state = 'chunk-size'
      return true
    }
    if (cl.length > 0) {
      if (!cl.every((v) => /^\d{1,15}$/.test(v) && v === cl[0])) this.fail(`invalid content-length ${cl}`)
      this.current.left = Number(cl[0])
      this.state = 'length-body'
      return true
    }
    // Neither: the body runs to the end of the connection, which then must close.
    this.state = 'eof-body'
    return true
  }

  /** Moves up to `current.left` buffered bytes into the body; true once all of them have arrived. */
  takeBody () {
    const { current } = this
    if (current.left > 0) {
      if (this.buf.length === 0) return false
      const take = Math.min(current.left, this.buf.length)
      current.parts.push(this.buf.subarray(0, take))
      this.buf = this.buf.subarray(take)
      current.left -= take
    }
    return current.left === 0
  }

  lengthBody () {
    const { current } = this
    if (!this.takeBody()) return false
    this.complete(current.request, current.head, Buffer.concat(current.parts))
    return true
  }

  chunkSize () {
    const text = this.line()
    if (text === null) return false
    const m = CHUNK_SIZE.exec(text)
    if (m === null) this.fail(`invalid chunk size line ${show(text)}`)
    const size = parseInt(m[1], 16)
    if (size === 0) {
      this.state = 'trailers'
    } else {
      this.current.left = size
      this.state = 'chunk-data'
    }
    return true
  }

  chunkData () {
    if (!this.takeBody()) return false
    if (this.buf.length < 2) return false
    if (this.buf[0] !== 13 || this.buf[1] !== 10) this.fail(`chunk not followed by CRLF: ${show(this.buf)}`)
    this.buf = this.buf.subarray(2)
    this.state = 'chunk-size'
    return true
  }

  trailers () {
    const text = this.line()
    if (text === null) return false
    if (text === '') {
      this.complete(this.current.request, this.current.head, Buffer.concat(this.current.parts))
      return true
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/.test(text)) this.fail(`invalid trailer ${show(text)}`)
    return true
  }

  complete (request, head, body) {
    this.pending.shift()
    this.current = null
    this.state = 'head'
    if (head.close) {
      this.closed = true
      if (this.buf.length > 0) this.fail(`${this.buf.length} bytes after a response that closed the connection: ${show(this.buf)}`)
    }
    this.onFinal(request, { ...head, body })
  }
}

function show (value) {
  const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value)
  return JSON.stringify(text.length > 120 ? text.slice(0, 120) + '…' : text)
}
