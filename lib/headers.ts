import { FST_PROCESSING_INVALID_HEADER, describeValue } from './errors.js'

/** Headers for one interim response, e.g. `{ progress: '42/100' }`. */
export type ProcessingHeaders = Record<string, string | number | ReadonlyArray<string | number>>

/** Validated interim headers: lower-case names, each with one or more values, ready for any transport. */
export type InterimHeaders = Array<[name: string, values: string[]]>

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Field values: visible ASCII, space, tab and obs-text; CR, LF and NUL are how a header is smuggled.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

// Headers that frame or route the connection: on an interim response they would describe a body or a
// connection state that does not exist, and proxies would act on them.
const FORBIDDEN = new Set([
  'connection', 'content-length', 'host', 'keep-alive', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade'
])

/**
 * Node 20/22 write interim headers without any check, so a value with CRLF would let a caller inject
 * headers or a whole response. Everything is checked here, before a byte is written.
 */
export function interimHeaders (headers: unknown): InterimHeaders {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new FST_PROCESSING_INVALID_HEADER('argument', 'must be an object of header names to values', describeValue(headers))
  }
  const out: InterimHeaders = []
  for (const [rawName, value] of Object.entries(headers)) {
    if (!TOKEN.test(rawName)) {
      throw new FST_PROCESSING_INVALID_HEADER(describeValue(rawName), 'is not a valid header name', describeValue(rawName))
    }
    const name = rawName.toLowerCase()
    if (FORBIDDEN.has(name)) {
      throw new FST_PROCESSING_INVALID_HEADER(describeValue(rawName), 'frames the connection and is not allowed on a 102', describeValue(value))
    }
    const values = Array.isArray(value) ? value : [value]
    for (const v of values) {
      if ((typeof v !== 'string' && typeof v !== 'number') || INVALID_VALUE.test(String(v))) {
        throw new FST_PROCESSING_INVALID_HEADER(describeValue(rawName), 'must be a string or number without CR, LF or NUL', describeValue(value))
      }
    }
    out.push([name, values.map(String)])
  }
  return out
}
