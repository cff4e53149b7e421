// Proves: the stress harness's response parser accepts valid framing and refuses every framing error.
import t from 'tap'
import { FramingError, ResponseParser } from './parser.js'

// The stress test is only as strict as its parser: these prove it refuses what it must refuse.
interface Req { method: string, name: string }

function parse (requests: Req[], ...chunks: string[]): { events: string[], error: string | null, left: Req[], unfinished: unknown } {
  const events: string[] = []
  const parser = new ResponseParser<Req>({
    onInterim: (req, head) => events.push(`${req.name}:${head.status}${head.headers.length > 0 ? JSON.stringify(head.headers) : ''}`),
    onFinal: (req, res) => events.push(`${req.name}:${res.status}:${res.body.toString('latin1')}`)
  })
  for (const req of requests) parser.expect(req)
  try {
    for (const chunk of chunks) parser.push(Buffer.from(chunk, 'latin1'))
    const left = parser.end()
    return { events, error: null, left, unfinished: parser.unfinished ?? null }
  } catch (err) {
    if (!(err instanceof FramingError)) throw err
    return { events, error: err.message, left: [], unfinished: null }
  }
}

const GET = (name: string): Req => ({ method: 'GET', name })
const P = 'HTTP/1.1 102 Processing\r\n\r\n'

t.test('accepts interims, content-length, chunked, close-delimited bodies, split anywhere', async (t) => {
  const wire = P + 'HTTP/1.1 102 Processing\r\nprogress: 1/2\r\n\r\n' +
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' +
    P + 'HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-trailer: 1\r\n\r\n' +
    'HTTP/1.0 200 OK\r\n\r\nuntil close'
  const requests = [GET('a'), GET('b'), GET('c')]
  const whole = parse(requests, wire)
  t.same(whole.events, ['a:102', 'a:102[["progress","1/2"]]', 'a:200:hello', 'b:102', 'b:500:abcde', 'c:200:until close'])
  t.equal(whole.error, null)
  t.same(whole.left, [])
  for (let size = 1; size <= 7; size++) {
    const pieces = wire.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!
    t.same(parse([GET('a'), GET('b'), GET('c')], ...pieces).events, whole.events, `byte-split every ${size}`)
  }
  t.same(parse([{ method: 'HEAD', name: 'h' }, GET('g')], 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n').events, ['h:200:', 'g:204:'])
})

t.test('refuses every framing error', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a 102 inside a chunked body', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n' + P + '0\r\n\r\n'], /chunk size/],
    ['a 102 after a content-length body', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' + P], /no request outstanding/],
    ['a second final response', ['HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'], /no request outstanding/],
    ['bytes after Connection: close', ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok' + P], /after a response that closed/],
    ['bytes after Connection: close, later', ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', P], /after a response that closed/],
    ['a bare LF', ['HTTP/1.1 102 Processing\nx: 1\r\n\r\n'], /bare CR or LF|invalid status line/],
    ['a bad status line', ['HTTP/1.1 2000 OK\r\n\r\n'], /invalid status line/],
    ['a missing reason separator', ['HTTP/1.1 200\r\n\r\n'], /invalid status line/],
    ['HTTP/2 on the wire', ['HTTP/2 200\r\n\r\n'], /invalid status line/],
    ['garbage', ['hello'], /expected a status line/],
    ['obs-fold', ['HTTP/1.1 200 OK\r\nx: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n'], /invalid header line/],
    ['a header name with a space', ['HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n'], /invalid header line/],
    ['a NUL in a value', ['HTTP/1.1 200 OK\r\nx: a\u0000b\r\n\r\n'], /invalid header value/],
    ['content-length and chunked', ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'], /both/],
    ['conflicting content-lengths', ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'], /invalid content-length/],
    ['a negative content-length', ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'], /invalid content-length/],
    ['a chunk without CRLF', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n'], /CRLF/],
    ['an invalid chunk size', ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'], /chunk size/],
    ['chunked on HTTP/1.0', ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'], /HTTP\/1.0/],
    ['101', ['HTTP/1.1 101 Switching Protocols\r\n\r\n'], /101/]
  ]
  for (const [name, chunks, re] of cases) {
    const { error } = parse([GET('a')], ...chunks)
    t.match(error, re, name)
  }
})

t.test('reports what a closed connection left unanswered', async (t) => {
  const r = parse([GET('a'), GET('b')], 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe')
  t.same(r.events, ['a:200:ok'])
  t.same(r.left.map((x) => x.name), ['b'])
  t.match(r.unfinished, { state: 'length-body' })
})
