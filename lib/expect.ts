import type { IncomingMessage, Server, ServerResponse } from 'node:http'

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
