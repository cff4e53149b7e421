import { FST_PROCESSING_INVALID_HEADER, describeValue } from './errors.js'

/**
 * Headers for one interim response, e.g. `{ progress: '42/100' }`. Names are tokens; values are strings or
 * numbers (or arrays of them) of tab, space, visible ASCII and bytes 0x80–0xff (Latin-1): a value with any
 * other character (`…`, `€`, emoji, CR, LF, NUL) leaves its header out of that 102, with one
 * coded warning per route.
 */
export type ProcessingHeaders = Record<string, string | number | ReadonlyArray<string | number>>

/** Validated interim headers: lower-case names, each with one or more values, ready for any transport. */
export type InterimHeaders = Array<[name: string, values: string[]]>

// RFC 9110 §5.6.2 token characters.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
// Field values: tab, space, visible ASCII and obs-text (0x80–0xff, which Node writes as Latin-1); CR, LF
// and NUL are how a header is smuggled.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

// Headers that frame or route the connection: on an interim response they would describe a body or a
// connection state that does not exist, and proxies would act on them.
const FORBIDDEN = new Set([
  'connection', 'content-length', 'host', 'keep-alive', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade'
])

/**
 * Node 20/22 write interim headers without any check, so a value with CRLF would let a caller inject
 * headers or a whole response. Everything is checked here, before a byte is written. A name or a value's
 * type is the code's own mistake and throws; a value's characters often come from data (a file name, a
 * title), so a value outside the rule is handed to `drop` and left out: a progress text must never turn
 * the final response into a 500.
 */
export function interimHeaders (headers: unknown, drop: (name: string) => void): InterimHeaders {
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
    if (!values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      throw new FST_PROCESSING_INVALID_HEADER(describeValue(rawName), 'must be a string or number, or an array of them', describeValue(value))
    }
    const strings = values.map(String)
    if (strings.some((v) => INVALID_VALUE.test(v))) drop(name)
    else out.push([name, strings])
  }
  return out
}
