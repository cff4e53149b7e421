// Proves: how a 102 goes on the wire: a pre-encoded bare 102 on every Node line, writeInformation for 102s with headers, pipelined order kept.
import http from 'node:http'
import t from 'tap'
import { rawExchange, serve, statusLines, until } from './helpers.js'

// A 102 without headers is the same bytes on every Node line, written once-encoded through Node's head
// writer, and still queued behind the response ahead of it on a pipelined connection.

t.test('a header-less 102: the exact bytes, through Node\'s head writer, never through writeInformation', async (t) => {
  const proto = http.ServerResponse.prototype as unknown as Record<string, ((...args: unknown[]) => unknown) | undefined>
  const raw: unknown[] = []
  const info: unknown[] = []
  const writeRaw = proto._writeRaw!
  proto._writeRaw = function (this: unknown, ...args: unknown[]) {
    raw.push(args[0])
    return writeRaw.apply(this, args)
  }
  const writeInformation = proto.writeInformation
  if (writeInformation !== undefined) {
    proto.writeInformation = function (this: unknown, ...args: unknown[]) {
      info.push(args)
      return writeInformation.apply(this, args)
    }
  }
  t.teardown(() => {
    proto._writeRaw = writeRaw
    if (writeInformation !== undefined) proto.writeInformation = writeInformation
  })
  const { port } = await serve(t, { threshold: 10, interval: 20, limit: 2 }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (_req, reply) => {
      await until(() => reply.processingSent === 2, 'two 102s')
      return 'done'
    })
  })
  const text = await rawExchange(port, (s) => s.write('GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  t.ok(text.startsWith('HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\n'), 'two bare 102s, then the 200')
  const bare = raw.filter((d) => Buffer.isBuffer(d))
  t.equal(bare.length, 2, 'each written as the one pre-encoded buffer')
  t.equal(bare[0], bare[1], 'the same buffer both times')
  t.same(info, [], 'writeInformation, where Node has it, was not needed')
})

t.test('pipelined: a bare 102 for the second request waits behind the first response', async (t) => {
  const { port } = await serve(t, { threshold: 10, interval: 1000 }, (app) => {
    app.get('/first', async () => {
      await new Promise((resolve) => setTimeout(resolve, 80))
      return 'first-body'
    })
    app.get('/second', { config: { processing: true } }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 60))
      return 'second-body'
    })
  })
  const text = await rawExchange(port, (s) => s.write(
    'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
  const statuses = statusLines(text)
  t.equal(statuses[0], 200, 'the first response comes first, whole')
  t.match(text, /first-body(HTTP\/1\.1 102 Processing\r\n\r\n)*HTTP\/1\.1 200 OK/, 'any 102 of the second only after the first body')
  t.equal(statuses.at(-1), 200)
})
