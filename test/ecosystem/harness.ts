import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { createRequire } from 'node:module'
import net from 'node:net'
import type { Test } from 'tap'
import { type FastifyProcessingOptions } from '../../index.js'
import { sleep, until } from '../helpers.js'

export { sleep, until }

// One schedule for every plugin of the matrix: 102s at 100 and 250 ms, then the limit; the handler answers
// at 600 ms, so a busy machine that delays a timer still sees exactly two, well before the final response.
export const slow: FastifyProcessingOptions = { threshold: 100, interval: 150, limit: 2 }
export const WORK_MS = 600
export const EXPECTED_102S = 2

/** The installed version of a package, for the matrix and for test names. */
export function versionOf (pkg: string): string {
  const require = createRequire(import.meta.url)
  return (require(`${pkg}/package.json`) as { version: string }).version
}

export interface Head {
  status: number
  /** Header fields in wire order, names lower-cased. */
  fields: Array<[string, string]>
  raw: string
}

export interface Response extends Head {
  /** Every 1xx except 101 that preceded this response, in order. */
  interims: Head[]
  body: Buffer
  framing: 'content-length' | 'chunked' | 'none' | 'close'
  header (name: string): string | undefined
}

const CRLF2 = Buffer.from('\r\n\r\n')

function parseHead (raw: string): Head {
  const [statusLine = '', ...lines] = raw.split('\r\n')
  const m = /^HTTP\/1\.1 (\d{3})(?: .*)?$/.exec(statusLine)
  if (m === null) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(statusLine)}`)
  const fields = lines.map((line): [string, string] => {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line)}`)
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
  })
  return { status: Number(m[1]), fields, raw }
}

/**
 * A raw HTTP/1.1 client on one TCP connection: it writes bytes as given and parses every response strictly
 * (interims, head, body by its framing), so that a stray byte, a late 102 or a broken framing fails the
 * next read instead of passing unnoticed, as a lenient client would let it.
 */
export class Client {
  readonly socket: net.Socket
  private buffer = Buffer.alloc(0)
  private ended = false
  private wake: (() => void) | null = null
  /** Every byte received, for error messages. */
  transcript = ''

  private constructor (socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.transcript += chunk.toString('latin1')
      this.poke()
    })
    socket.on('end', () => { this.ended = true; this.poke() })
    socket.on('close', () => { this.ended = true; this.poke() })
    socket.on('error', () => { this.ended = true; this.poke() })
  }

  static connect (port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new Client(socket)))
      socket.once('error', reject)
    })
  }

  private poke (): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  /** Resolves when more bytes arrived (true) or the connection ended (false). */
  private more (): Promise<boolean> {
    if (this.ended) return Promise.resolve(false)
    return new Promise((resolve) => {
      const before = this.buffer.length
      this.wake = () => resolve(this.buffer.length > before || !this.ended)
    })
  }

  /** Bytes received and not yet parsed as part of a response. */
  get pending (): Buffer { return this.buffer }
  get closed (): boolean { return this.ended }

  write (data: string | Buffer): void { this.socket.write(data) }

  /** Every byte until the connection ends, as latin1 text. */
  async rest (): Promise<string> {
    while (await this.more());
    const text = this.buffer.toString('latin1')
    this.buffer = Buffer.alloc(0)
    return text
  }

  private async take (n: number, what: string): Promise<Buffer> {
    while (this.buffer.length < n) {
      if (!await this.more()) throw new Error(`connection ended inside ${what}: ${JSON.stringify(this.transcript.slice(-300))}`)
    }
    const out = this.buffer.subarray(0, n)
    this.buffer = this.buffer.subarray(n)
    return out
  }

  private async line (what: string): Promise<string> {
    let at: number
    while ((at = this.buffer.indexOf('\r\n')) < 0) {
      if (!await this.more()) throw new Error(`connection ended inside ${what}`)
    }
    return (await this.take(at + 2, what)).subarray(0, at).toString('latin1')
  }

  private async head (): Promise<Head> {
    let at: number
    while ((at = this.buffer.indexOf(CRLF2)) < 0) {
      if (!await this.more()) {
        throw new Error(`connection ended before a response head; received ${JSON.stringify(this.transcript.slice(-300))}`)
      }
    }
    return parseHead((await this.take(at + 4, 'a head')).subarray(0, at).toString('latin1'))
  }

  /** The next response: its interims, then its head and body read exactly as its framing says. */
  async read (init: { method?: string } = {}): Promise<Response> {
    const interims: Head[] = []
    for (;;) {
      const head = await this.head()
      const header = (name: string): string | undefined => head.fields.find(([n]) => n === name)?.[1]
      if (head.status >= 100 && head.status < 200 && head.status !== 101) {
        interims.push(head)
        continue
      }
      let body = Buffer.alloc(0)
      let framing: Response['framing']
      const te = header('transfer-encoding')
      const cl = header('content-length')
      if (init.method === 'HEAD' || head.status === 101 || head.status === 204 || head.status === 304) {
        framing = 'none'
      } else if (te !== undefined) {
        if (te.toLowerCase() !== 'chunked') throw new Error(`unexpected Transfer-Encoding: ${te}`)
        if (cl !== undefined) throw new Error('both Content-Length and Transfer-Encoding')
        framing = 'chunked'
        const chunks: Buffer[] = []
        for (;;) {
          const sizeLine = await this.line('a chunk size')
          if (!/^[0-9a-fA-F]+(;.*)?$/.test(sizeLine)) throw new Error(`malformed chunk size line: ${JSON.stringify(sizeLine)}`)
          const size = parseInt(sizeLine, 16)
          if (size === 0) break
          chunks.push(Buffer.from(await this.take(size, 'a chunk')))
          const end = await this.take(2, 'a chunk end')
          if (end.toString('latin1') !== '\r\n') throw new Error('a chunk is not followed by CRLF')
        }
        // Trailer section, then the empty line that ends the message.
        while ((await this.line('the trailers')) !== '');
        body = Buffer.concat(chunks)
      } else if (cl !== undefined) {
        if (!/^\d+$/.test(cl)) throw new Error(`malformed Content-Length: ${cl}`)
        framing = 'content-length'
        body = Buffer.from(await this.take(Number(cl), 'the body'))
      } else {
        framing = 'close'
        while (await this.more());
        body = this.buffer
        this.buffer = Buffer.alloc(0)
      }
      return { ...head, interims, body, framing, header }
    }
  }

  end (): void { this.socket.end() }
}

/** A request head in wire form. */
export function http (method: string, path: string, headers: Record<string, string | number> = {}): string {
  let text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`
  return text + '\r\n'
}

/** A server on a loopback port; `setup` registers the plugins and routes. Every app answers GET /ping. */
export async function ecoServer (
  t: Test,
  setup: (app: FastifyInstance) => Promise<void> | void,
  serverOptions: FastifyServerOptions = {},
  // Another Fastify (an npm alias of an older minor) where given.
  fastify: (opts: FastifyServerOptions) => unknown = (opts) => Fastify(opts)
): Promise<{ app: FastifyInstance, port: number }> {
  const app = fastify(serverOptions) as FastifyInstance
  t.teardown(() => app.close())
  await setup(app)
  app.get('/ping', { config: { processing: false } }, async () => 'pong')
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as net.AddressInfo).port }
}

/** Opens a connection, sends `request`, and reads one response (plus any body to send after the head). */
export async function exchange (port: number, request: string | Buffer, init: { method?: string } = {}): Promise<{ client: Client, res: Response }> {
  const client = await Client.connect(port)
  client.write(request)
  const res = await client.read(init)
  return { client, res }
}

/**
 * Checks the common promises about one response: exactly `interims` bare 102s (no header field: a final
 * header such as Content-Encoding or an Access-Control-* on an interim would mislead the client), the
 * status, and the body byte for byte when given.
 */
export function checkResponse (
  t: Test,
  res: Response,
  expected: { status: number, interims: number, body?: Buffer | string, what: string }
): void {
  t.same(res.interims.map((i) => i.status), Array(expected.interims).fill(102), `${expected.what}: ${expected.interims} × 102`)
  t.same(res.interims.filter((i) => i.fields.length > 0).map((i) => i.raw), [], `${expected.what}: the 102s carry no header`)
  t.equal(res.status, expected.status, `${expected.what}: status ${expected.status}`)
  if (expected.body !== undefined) {
    const body = typeof expected.body === 'string' ? Buffer.from(expected.body) : expected.body
    t.ok(res.body.equals(body), `${expected.what}: the body is byte-exact (${res.body.length} bytes, ${body.length} expected)`)
  }
}

/**
 * The connection is still usable after the response: nothing stray follows it (a late 102 would be read
 * as the next response's interim), and a second request on it gets its answer.
 */
export async function checkReuse (t: Test, client: Client, what: string): Promise<void> {
  t.equal(client.pending.length, 0, `${what}: no byte after the response`)
  client.write(http('GET', '/ping'))
  const ping = await client.read()
  t.same([ping.interims.length, ping.status, ping.body.toString()], [0, 200, 'pong'], `${what}: keep-alive reuse works`)
  client.end()
}

/** A handler that works for WORK_MS, then returns `body`. */
export function slowly<T> (body: T | (() => T)): () => Promise<T> {
  return async () => {
    await sleep(WORK_MS)
    return typeof body === 'function' ? (body as () => T)() : body
  }
}
