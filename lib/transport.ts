import { IncomingMessage, type ServerResponse } from 'node:http'
import { Http2ServerRequest, type Http2ServerResponse } from 'node:http2'
import type { InterimHeaders } from './headers.js'

/** Writes 102s on one kind of connection, and knows when that connection may carry one. */
export interface Transport {
  /** The whole request has arrived: a 102 tells the client it was received and accepted. */
  received (req: unknown): boolean
  /** Nothing final has gone out and the connection can still carry an interim response. */
  open (res: unknown): boolean
  write (res: unknown, headers: InterimHeaders): void
}

interface Http1Response extends ServerResponse {
  // Node >= 24.18 / 26.2 (not 26.0 or 26.1: detected, not inferred from the version). It refuses to write
  // after the final headers, and validates the block again. It does not refuse an HTTP/1.0 client.
  writeInformation?: (status: number, headers: Record<string, string>) => void
  // Node's own writer of raw head bytes (what writeProcessing, writeEarlyHints and writeInformation all end
  // in). Unlike socket.write, it queues bytes behind the responses ahead of this one on a pipelined
  // connection, so a 102 never lands inside another request's response.
  _writeRaw: (data: string | Buffer, encoding?: BufferEncoding) => boolean
}

interface Http2Response extends Http2ServerResponse {
  // Same versions as on HTTP/1: returns false, rather than throwing, after the final headers.
  writeInformation?: (status: number, headers: Record<string, string>) => boolean
}

// One form on every Node line and every transport: a header with several values is one field, the values
// joined with ", " (RFC 9110 §5.3). Node's writeInformation would join an array with "," and no space,
// and the older head writer wrote one line per value.
function toObject (headers: InterimHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, values] of headers) out[name] = values.join(', ')
  return out
}

const PROCESSING_LINE = 'HTTP/1.1 102 Processing\r\n'
// Almost every 102 has no header: its bytes never change, so they are encoded once. Written through
// _writeRaw on every Node line, since writeInformation adds only checks that open() and transportFor()
// already made (final headers not sent, HTTP/1.1), and costs more per write where it exists.
const BARE_102 = Buffer.from(PROCESSING_LINE + '\r\n', 'latin1')

const http1: Transport = {
  received (req) {
    const r = req as IncomingMessage
    // `complete` turns true only after the handler has often started: a request without Content-Length
    // or Transfer-Encoding has no body (RFC 9112 §6.3), so it is whole as soon as its headers are.
    if (r.complete) return true
    const length = r.headers['content-length']
    return r.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')
  },
  open (res) {
    const r = res as ServerResponse
    // headersSent covers streamed bodies and replies whose headers went out while a 102 was due;
    // writableEnded covers res.end() without writeHead; destroyed covers aborts and socket errors.
    return !r.headersSent && !r.writableEnded && !r.destroyed
  },
  write (res, headers) {
    const r = res as Http1Response
    if (headers.length === 0) {
      r._writeRaw(BARE_102)
      return
    }
    // coverage: per Node line (24.18+ and 26.2+ run the first path, 20 and 22 the second)
    if (typeof r.writeInformation === 'function') {
      r.writeInformation(102, toObject(headers))
      return
    }
    let head = PROCESSING_LINE
    for (const [name, values] of headers) head += `${name}: ${values.join(', ')}\r\n`
    // latin1, as Node writes every header: one byte per character, obs-text included.
    r._writeRaw(head + '\r\n', 'latin1')
  }
  // coverage: end
}

const http2: Transport = {
  received (req) {
    const r = req as Http2ServerRequest
    // `complete` stays false for a GET whose empty body nobody read; the stream itself knows the peer
    // has finished sending (END_STREAM on the headers, or on the last DATA frame).
    return r.complete || r.stream.endAfterHeaders || r.stream.state.remoteClose === 1
  },
  open (res) {
    const r = res as Http2ServerResponse
    const stream = r.stream
    return !r.headersSent && !stream.headersSent && !stream.destroyed && !stream.closed
  },
  write (res, headers) {
    const r = res as Http2Response
    // Node's own method where it has one, as on HTTP/1: it is the API that Node keeps correct.
    // coverage: per Node line (as above)
    if (typeof r.writeInformation === 'function') {
      r.writeInformation(102, toObject(headers))
      return
    }
    r.stream.additionalHeaders({ ...toObject(headers), ':status': 102 })
  }
  // coverage: end
}

/**
 * Picks how 102s reach this request's client, or null when they never may: an HTTP/1.0 client cannot
 * parse a 1xx (RFC 9110 §15.2), and `fastify.inject()` (light-my-request) has no wire, so anything written
 * there would corrupt the injected payload. A protocol switch is asked separately (`switching`), before a
 * request's first 102 rather than as it arrives: most requests answer before their first 102 is due, and
 * reading the headers costs more than the rest of their setup.
 */
export function transportFor (req: unknown): Transport | null {
  return req instanceof IncomingMessage
    ? (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 ? http1 : null)
    : req instanceof Http2ServerRequest ? http2 : null
}

// A request that asks to switch protocols (a WebSocket handshake, h2c) or to open a tunnel waits for a 101
// or a 2xx that starts another protocol: clients take a 102 there as a refusal (Python websockets: "server
// rejected WebSocket connection: HTTP 102"). Node sends an HTTP/2 CONNECT to 'connect', not to the app,
// and refuses Upgrade on HTTP/2; one routed to Fastify by hand is refused here all the same.
export function switching (req: unknown): boolean {
  const r = req as IncomingMessage | Http2ServerRequest
  return r.method === 'CONNECT' || r.headers.upgrade !== undefined
}
