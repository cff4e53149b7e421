// Proves: the built probe command, over HTTP/1.1, HTTPS and HTTP/2, finds caps, prints verdicts and exits with its codes.
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import t from 'tap'
import type { Test } from 'tap'
import { pluginOptions } from '../lib/options.js'
import { probeOptions, probeRoute } from '../lib/probe-endpoint.js'
import { freePort } from './interop/peers.js'

// The command as users run it (the built dist/bin, in its own process) against the probe on a real socket.

const TOKEN = 'cli-probe-token-0123456'
const BIN = fileURLToPath(new URL('../dist/bin/fastify-processing.js', import.meta.url))
const cert = readFileSync(new URL('fixtures/cert.pem', import.meta.url))
const key = readFileSync(new URL('fixtures/key.pem', import.meta.url))

async function probeServer (t: Test, server: object | number = {}): Promise<number> {
  // A number: the probe's own maxCount, on a plain server.
  const app = Fastify(typeof server === 'number' ? {} : server)
  app.route(probeRoute(probeOptions({ path: '/_probe', token: TOKEN, ...(typeof server === 'number' ? { maxCount: server } : {}) })!, pluginOptions({}).defaults))
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  return (app.server.address() as AddressInfo).port
}

interface Run { code: number, stdout: string, stderr: string }
function cli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(BIN, args, env)
}
function run (bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr })
    })
  })
}

const quick = ['--token', TOKEN, '--max', '4', '--interval', '10']

t.test('HTTP/1.1: a path that carries every 102 is safe; the table, the verdict, the line of options, exit 0', async (t) => {
  const port = await probeServer(t)
  const res = await cli(['probe', `http://127.0.0.1:${port}/_probe`, ...quick])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /102s reach client +4 of 4\n/)
  t.match(res.stdout, /count that works +every one up to 4\n/)
  t.match(res.stdout, /final response +intact\n/)
  t.match(res.stdout, /keep-alive reuse +works after 102s; works without\n/)
  t.match(res.stdout, /default policy +sends up to 100\n/)
  t.match(res.stdout, /\nverdict: safe\noptions: \{\} \(the defaults fit this path\)\n$/)
})

t.test('--json: the whole result for scripts', async (t) => {
  const port = await probeServer(t)
  const res = await cli(['probe', `http://127.0.0.1:${port}/_probe`, ...quick, '--json'])
  t.equal(res.code, 0, res.stderr)
  const out = JSON.parse(res.stdout)
  t.match(out, {
    transport: 'HTTP/1.1',
    unreachable: null,
    app: { protocol: 'HTTP/1.1', policy: { reason: null, sends: true } },
    arrived: { seen: 4, sent: 4 },
    cap: { works: 4, fails: null, max: 4, steady: true },
    final: 'intact',
    keepAlive: { without: true, after: true },
    hold: null,
    verdict: 'safe',
    exit: 0
  })
  t.equal(out.app.headers['x-probe-token'], '[redacted]')
})

t.test('HTTPS: --insecure for a self-signed certificate; without it the path is unreachable (exit 2)', async (t) => {
  const port = await probeServer(t, { https: { key, cert } })
  const url = `https://localhost:${port}/_probe`
  const ok = await cli(['probe', url, ...quick, '--insecure'])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /verdict: safe/)
  const refused = await cli(['probe', url, ...quick])
  t.equal(refused.code, 2)
  t.match(refused.stdout, /unreachable: the probe did not answer: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/)
})

t.test('HTTP/2: --http2 over cleartext (prior knowledge) and over TLS', async (t) => {
  const h2c = await probeServer(t, { http2: true })
  const h2 = await probeServer(t, { http2: true, https: { key, cert } })
  for (const url of [`http://127.0.0.1:${h2c}/_probe`, `https://localhost:${h2}/_probe`]) {
    const res = await cli(['probe', url, ...quick, '--http2', '--insecure', '--json'])
    t.equal(res.code, 0, res.stderr)
    t.match(JSON.parse(res.stdout), { transport: 'HTTP/2', app: { protocol: 'HTTP/2.0' }, arrived: { seen: 4, sent: 4 }, keepAlive: { without: true, after: true }, verdict: 'safe' }, url)
  }
})

t.test('--hold: the path held with 102s and without; a progress line every few seconds saying what it waits for', async (t) => {
  const port = await probeServer(t)
  const res = await cli(['probe', `http://127.0.0.1:${port}/_probe`, ...quick, '--hold', '5000'])
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /hold 5000 ms +with 4 102s: intact; without: intact \(the path did not time out: hold longer than its idle timeout\)\n/)
  t.match(res.stderr, /^\[4 s\] waiting for holding the path 5\.0 s, with 4 102s and without: \d\.\d s; 102s seen so far: \d of 4\n/)
  const json = await cli(['probe', `http://127.0.0.1:${port}/_probe`, ...quick, '--hold', '4500', '--json'])
  t.equal(json.code, 0)
  t.equal(json.stderr, '', '--json: no progress lines')
  t.match(JSON.parse(json.stdout).hold, { ms: 4500, with: 'intact', without: 'intact', auto: false })
})

t.test("the app's own probe.maxCount is never the path's cap", async (t) => {
  const port = await probeServer(t, 20)
  const res = await cli(['probe', `http://127.0.0.1:${port}/_probe`, '--token', TOKEN, '--max', '200', '--interval', '10'])
  t.equal(res.code, 0, res.stdout)
  t.match(res.stdout, /app allows +at most 20 102s per probe \(probe\.maxCount\): not the path's cap\n/)
  t.match(res.stdout, /count that works +every one up to 20\n/)
  t.match(res.stdout, /\nverdict: safe\n/)
})

t.test('from a client machine: the endpoint serves the command as one file, run with node and nothing installed', async (t) => {
  const port = await probeServer(t)
  const url = `http://127.0.0.1:${port}/_probe`
  // As docs/probe.md gives it, from a folder with no node_modules anywhere above it.
  const dir = mkdtempSync(join(tmpdir(), 'fp-client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const res = await new Promise<Run>((resolve) => {
    execFile('sh', ['-c', `curl -sf -H "x-probe-token: $TOKEN" '${url}?client' | node - probe '${url}' --max 4 --interval 10`],
      { cwd: dir, env: { ...process.env, TOKEN, FASTIFY_PROCESSING_PROBE_TOKEN: TOKEN, PATH: `${dirname(process.execPath)}:${process.env.PATH}` }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }))
  })
  t.equal(res.code, 0, res.stderr)
  t.match(res.stdout, /102s reach client +4 of 4\n/)
  t.match(res.stdout, /\nverdict: safe\noptions: \{\} \(the defaults fit this path\)\n$/)
})

t.test('a wrong token, or nothing listening: unreachable, exit 2; the token may come from the environment', async (t) => {
  const port = await probeServer(t)
  const wrong = await cli(['probe', `http://127.0.0.1:${port}/_probe`, '--token', 'not-the-token-at-all'])
  t.equal(wrong.code, 2)
  t.match(wrong.stdout, /unreachable: 404: no probe at this path, or the token is wrong\n$/)
  const fromEnv = await cli(['probe', `http://127.0.0.1:${port}/_probe`, '--max', '1'], { FASTIFY_PROCESSING_PROBE_TOKEN: TOKEN })
  t.equal(fromEnv.code, 0, fromEnv.stderr)
  const closed = await cli(['probe', `http://127.0.0.1:${await freePort()}/_probe`, '--token', TOKEN, '--json'])
  t.equal(closed.code, 2)
  t.match(JSON.parse(closed.stdout), { unreachable: 'the probe did not answer: ECONNREFUSED', exit: 2 })
})

t.test('usage errors: exit 64 with the reason and the usage; --help exits 0', async (t) => {
  const url = 'http://127.0.0.1:1/_probe'
  const cases: Array<[string[], RegExp]> = [
    [[], /^missing command/],
    [['prob', url], /^unknown command "prob"/],
    [['probe'], /^give exactly one <url>/],
    [['probe', url, url, '--token', TOKEN], /^give exactly one <url>/],
    [['probe', 'nowhere', '--token', TOKEN], /^not a URL: "nowhere"/],
    [['probe', 'ftp://127.0.0.1/_probe', '--token', TOKEN], /^not an http: or https: URL/],
    [['probe', url], /^missing --token/],
    [['probe', url, '--token', TOKEN, '--hold', 'long'], /^--hold must be an integer from 100 to 3600000, received "long"/],
    [['probe', url, '--token', TOKEN, '--max', '0'], /^--max must be an integer from 1 to 10000/],
    [['probe', url, '--token', TOKEN, '--verbose'], /Unknown option '--verbose'/]
  ]
  for (const [args, message] of cases) {
    const res = await cli(args, { FASTIFY_PROCESSING_PROBE_TOKEN: '' })
    t.equal(res.code, 64, args.join(' '))
    t.match(res.stderr, message)
    t.match(res.stderr, /Usage: fastify-processing probe <url> --token <token>/)
  }
  const help = await cli(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Exit codes: 0 safe, 1 unsafe or limited, 2 unreachable, 64 usage/)
})

t.test('--version prints the version of the package the command ships in, read when asked', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  t.same(await cli(['--version']), { code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  // The same built file under another package.json says that package's version: nothing is baked in.
  const dir = t.testdir({ 'package.json': JSON.stringify({ type: 'module', version: '9.8.7-other' }), dist: { bin: {} } })
  for (const file of readdirSync(dirname(BIN))) copyFileSync(join(dirname(BIN), file), join(dir, 'dist/bin', file))
  const other = await run(join(dir, 'dist/bin/fastify-processing.js'), ['--version'])
  t.same(other, { code: 0, stdout: '9.8.7-other\n', stderr: '' })
})
