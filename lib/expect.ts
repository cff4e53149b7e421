import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { FastifyBaseLogger } from 'fastify'
import { FST_PROCESSING_EXPECT_UNREACHED, logCode } from './errors.js'

const kInstalled = Symbol.for('fastify-processing.checkExpectation')
const TOKENS = /\s*,\s*/

type AnyServer = Pick<Server, 'on' | 'emit' | 'listenerCount'> & { [kInstalled]?: true }

/**
 * Node answers 417 to any `Expect` other than 100-continue before Fastify sees the request, unless the
 * server has a 'checkExpectation' listener. This one lets `Expect: 102-processing` (the convention of
 * Jetty, and of clients that ask for 102s) through to the routes, and answers every other expectation
 * exactly as Node does without it: 417 and an empty body.
 */
export function acceptProcessingExpectation (server: AnyServer): void {
  if (server[kInstalled] === true) return
  server[kInstalled] = true
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const expectations = String(req.headers.expect).trim().toLowerCase().split(TOKENS)
    if (expectations.every((e) => e === '102-processing')) {
      server.emit('request', req, res)
    } else {
      res.writeHead(417)
      res.end()
    }
  })
}

/** What `everyServer` needs of a Fastify instance. */
export interface Listening {
  server: AnyServer
  addresses: () => unknown[]
  log: Pick<FastifyBaseLogger, 'warn'>
}

/**
 * `listen({ host: 'localhost' })` binds every address localhost resolves to (127.0.0.1 and ::1 on a
 * dual-stack host), with one more server per extra address, and Node answers 417 on a server without
 * the listener. Fastify keeps those servers in a list it offers no public handle to (`addresses()` reads
 * it); it is found by its symbol's description, and if a Fastify release renames it, the servers left
 * without the listener are named in a coded warning rather than answering 417 unexplained.
 */
export function acceptOnEveryServer (fastify: Listening): void {
  acceptProcessingExpectation(fastify.server)
  const bindings = serverBindings(fastify)
  for (const server of bindings ?? []) acceptProcessingExpectation(server)
  const reached = 1 + (bindings?.length ?? 0)
  const addresses = fastify.addresses()
  if (addresses.length > reached) {
    logCode(fastify.log, FST_PROCESSING_EXPECT_UNREACHED, { addresses }, addresses.length, reached)
  }
}

function serverBindings (fastify: object): AnyServer[] | undefined {
  for (let o: object | null = fastify; o !== null; o = Object.getPrototypeOf(o)) {
    const key = Object.getOwnPropertySymbols(o).find((s) => s.description === 'fastify.serverBindings')
    if (key !== undefined) {
      const list: unknown = (o as Record<symbol, unknown>)[key]
      return Array.isArray(list) ? list as AnyServer[] : undefined
    }
  }
  return undefined
}
