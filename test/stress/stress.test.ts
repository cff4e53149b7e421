// Proves: a randomized stress and fault run stays clean, and the same harness catches naive emitters.
import { execFile } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import t from 'tap'
import { stress } from './engine.js'

const script = fileURLToPath(new URL('../../scripts/stress.js', import.meta.url))

// The child runs under tap's loader like every other process of the suite. From Node 24.13 that loader
// keeps a parsed source map for every module it sees, so the engine takes its heap baseline after a
// throwaway server has loaded what Fastify loads at ready(): growth measured from there is the plugin's.
const SEED = 1_102

// The short run of `npm run stress`, in a child process of its own: it needs --expose-gc for the heap
// check, and a process whose only timers and sockets are the test's, so that "nothing left after
// close" means something.
t.test(`short stress run against the built plugin (seed ${SEED}, 3000 requests)`, async (t) => {
  const { stdout, stderr, code } = await new Promise<{ stdout: string, stderr: string, code: number }>((resolve) => {
    execFile(process.execPath, ['--expose-gc', script, '--seed', String(SEED), '--requests', '3000', '--concurrency', '48', '--max-seconds', '60', '--json'],
      { timeout: 90_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number(err.code ?? 1) : 0 }))
  })
  const report = JSON.parse(stdout)
  t.comment(`requests ${report.requests}, finals ${report.finals}, aborted ${report.aborted}, 102s ${report.interims}, ` +
    `violations ${report.violations}, heap ${report.heapBeforeMB} -> ${report.heapAfterMB} MB, ${report.wallSeconds} s`)
  t.same(report.violationsByKind, {}, `no violation (${report.examples.join('; ')})`)
  t.equal(report.requests, 3000, 'every request was sent (not truncated by the time bound)')
  t.equal(report.finals + report.aborted, report.requests, 'every request not aborted got exactly one final response')
  t.ok(report.aborted > 0 && report.http10 > 0 && report.pipelined > 0 && report.uploads > 0, 'aborts, HTTP/1.0, pipelining and uploads all happened')
  t.ok(report.interims > 1000, `plenty of 102s were sent (${report.interims})`)
  t.same(report.resourcesLeft, [], 'no timer or socket left after app.close()')
  // A few MB of caches filled by the traffic itself (measured: +2 to +3 MB on Node 20 to 26, with or
  // without the plugin); a per-request leak of even 2 KB would add 6 MB.
  t.ok(report.heapAfterMB - report.heapBeforeMB < 8, `heap back near its baseline after GC (${report.heapBeforeMB} -> ${report.heapAfterMB} MB)`)
  t.equal(code, 0, stderr)
})

// The harness must not be vacuous: a naive emitter (a 102 on a fixed timer, no gating) is caught at once.
// With writeProcessing(): on Node >= 24.18 / 26.2 Node itself refuses a 102 after the final headers (it
// throws), so that fault is caught only where Node lets it through; the raw-socket emitter below makes it
// on every line.
function naiveEmitter (write: (raw: import('node:http').ServerResponse) => void) {
  return fp(async (app) => {
    app.server.on('checkExpectation', (req, res) => app.server.emit('request', req, res))
    app.decorateReply('processing', () => false)
    app.addHook('onRequest', async (_request, reply) => {
      if (reply.routeOptions.config.processing === false) return
      const timer = setInterval(() => { if (!reply.raw.destroyed) write(reply.raw) }, 10)
      setTimeout(() => clearInterval(timer), 60)
    })
  })
}
const nodeRefusesLate102 = typeof (http.ServerResponse.prototype as { writeInformation?: unknown }).writeInformation === 'function'

t.test('the same harness catches a naive writeProcessing() emitter', async (t) => {
  let refused = 0
  const naive = naiveEmitter((raw) => {
    try {
      raw.writeProcessing()
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_HTTP_HEADERS_SENT') throw err
      refused++
    }
  })
  const report = await stress({ processing: naive, seed: SEED, requests: 1500, concurrency: 32, maxSeconds: 30 })
  for (const kind of ['102 to HTTP/1.0', '102 to a request that must get none', '102 beyond limit', '102 before the request body was complete']) {
    t.ok((report.violations[kind] ?? 0) > 0, `caught: ${kind} (${report.violations[kind]})`)
  }
  const late = (report.violations['framing error'] ?? 0) + (report.violations['102 or response after the final response'] ?? 0)
  if (nodeRefusesLate102) {
    t.ok(refused > 0 && late === 0, `this Node refused ${refused} late writeProcessing() calls itself; none reached the wire`)
  } else {
    t.ok(late > 0 && refused === 0, `caught: 102s after the final response (${late})`)
  }
})

t.test('the same harness catches 102s written to the socket after the final response, on every Node line', async (t) => {
  const naive = naiveEmitter((raw) => { raw.socket?.write('HTTP/1.1 102 Processing\r\n\r\n') })
  const report = await stress({ processing: naive, seed: SEED, requests: 1500, concurrency: 32, maxSeconds: 30 })
  const late = (report.violations['framing error'] ?? 0) + (report.violations['102 or response after the final response'] ?? 0)
  t.ok(late > 0, `caught: 102s after the final response (${late})`)
  t.ok((report.violations['102 to HTTP/1.0'] ?? 0) > 0, 'caught: 102 to HTTP/1.0')
})
