// Real peers against a real Fastify server that uses the built plugin (dist/). Shared by the interop tap
// tests (which assert on what these functions measure) and by scripts/interop.js (which prints the
// compatibility matrix from the same measurements), so the README table and CI check the same thing.
import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import * as undici from 'undici'
import processing from '../../dist/index.js'

const require = createRequire(import.meta.url)

export const BODY = 'hello, this is the final response body'
export const CHUNKS = ['chunk one; ', 'chunk two; ', 'chunk three']

/** Options the probes use unless they say otherwise: a first 102 after 100 ms, then one every 200 ms. */
export const FAST = { threshold: 100, interval: 200 }

/** Runs a command, never rejecting: what it printed, how it ended, how long it took. */
export function run (cmd, args, { timeout = 30_000, input } = {}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const child = execFile(cmd, args, { timeout, maxBuffer: 16 * 1024 * 1024, encoding: 'latin1' }, (err, stdout, stderr) => {
      resolve({
        code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
        error: err && typeof err.code !== 'number' ? String(err.code ?? err.message) : null,
        stdout,
        stderr,
        ms: performance.now() - started
      })
    })
    if (input !== undefined) child.stdin.end(input)
  })
}

/** Where a peer binary is, or null. The interop tests fail (they do not skip) when this is null. */
export async function which (cmd) {
  const { code, stdout } = await run('sh', ['-c', `command -v ${cmd}`])
  return code === 0 ? stdout.trim() : null
}

/** Versions of every peer, as each reports it. */
export async function versions () {
  const first = (text, re) => (re.exec(text) ?? [])[1] ?? 'missing'
  const [curl, haproxy, nginx, python] = await Promise.all([
    run('curl', ['--version']),
    run('haproxy', ['-v']),
    run('nginx', ['-v']),
    run('python3', ['--version'])
  ])
  return {
    node: process.version.slice(1),
    nodeUndici: process.versions.undici,
    undici: require('undici/package.json').version,
    fastify: require('fastify/package.json').version,
    curl: first(curl.stdout, /^curl (\S+)/),
    haproxy: first(haproxy.stdout, /^HAProxy version (\S+)/),
    nginx: first(nginx.stderr, /nginx\/(\S+)/),
    python: first(python.stdout + python.stderr, /Python (\S+)/)
  }
}

const handedOut = new Set()

/**
 * A loopback port that was free a moment ago, and not handed out before by this process (for the
 * proxies, which need a port in their config). Another process can still take it before the proxy binds
 * it: start proxies with onFreePort(), which sees that and tries another port.
 */
export async function freePort () {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer()
      server.on('error', reject)
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address()
        server.close(() => resolve(port))
      })
    })
    if (!handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}

/**
 * Runs `start(port, dir)` with a free port and a fresh temp folder named after `prefix`, and again with
 * another port when the daemon found its port taken (daemon() throws PORT_TAKEN). Without this, a proxy
 * that lost the race exits, and its test talks to whichever process holds the port: another proxy, or
 * another test's app (CI once saw Varnish answer 200s that way).
 */
export async function onFreePort (prefix, start, tries = 5) {
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    try {
      return await start(await freePort(), dir)
    } catch (err) {
      if (err.code !== 'PORT_TAKEN' || attempt === tries) throw err
    }
  }
}

/**
 * A Fastify server on a loopback port. `plugin` is the plugin's options, or null for no plugin at all.
 * Routes: GET /slow?ms=N answers BODY (content-length) after N ms; GET /chunked?ms=N streams CHUNKS
 * (chunked encoding) after N ms; GET /fast answers at once. All three opt in to processing.
 */
export async function startApp (plugin = FAST, { http2: h2 = false, logs = false } = {}) {
  // With `logs`, what the app logs at warn and above is kept, one parsed JSON line each.
  const lines = []
  const stream = { write: (line) => { lines.push(JSON.parse(line)) } }
  const app = Fastify({ http2: h2, ...(logs ? { logger: { level: 'warn', stream } } : {}) })
  if (plugin !== null) await app.register(processing, plugin)
  const config = { processing: plugin !== null }
  const wait = (request) => sleep(Number(request.query.ms ?? 700))
  app.get('/slow', { config }, async (request, reply) => {
    await wait(request)
    reply.header('x-processing-sent', String(reply.processingSent ?? 0))
    return BODY
  })
  app.get('/chunked', { config }, async (request, reply) => {
    await wait(request)
    const { Readable } = await import('node:stream')
    reply.type('text/plain')
    return Readable.from(CHUNKS)
  })
  app.get('/fast', { config }, async () => BODY)
  let connections = 0
  app.server.on(h2 ? 'session' : 'connection', () => { connections++ })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  return {
    app,
    port,
    origin: `http://127.0.0.1:${port}`,
    /** TCP connections (HTTP/1) or sessions (HTTP/2) accepted so far. */
    get connections () { return connections },
    /** What the app logged (only with `logs`). */
    logs: () => lines,
    close: () => app.close()
  }
}

/** Splits what `curl -i` printed into responses: [{ status, headers, body }], interims first. */
export function parseCurlOutput (text) {
  const out = []
  let rest = text
  while (/^HTTP\/[\d.]+ \d{3}/.test(rest)) {
    const end = rest.indexOf('\r\n\r\n')
    const head = end === -1 ? rest : rest.slice(0, end)
    rest = end === -1 ? '' : rest.slice(end + 4)
    const [line, ...fields] = head.split('\r\n')
    const headers = {}
    for (const field of fields) {
      const i = field.indexOf(':')
      headers[field.slice(0, i).toLowerCase()] = field.slice(i + 1).trim()
    }
    out.push({ status: Number(line.split(' ')[1]), version: line.split(' ')[0], headers, body: '' })
  }
  if (out.length > 0) out[out.length - 1].body = rest
  return out
}

function summarize (responses, extra = {}) {
  const final = responses.at(-1)
  const interims = responses.slice(0, -1)
  return {
    status: final?.status ?? null,
    body: final?.body ?? null,
    interims: interims.map((r) => r.status),
    interimVersions: interims.map((r) => r.version),
    version: final?.version ?? null,
    ...extra
  }
}

/**
 * curl -i, which prints every interim response head before the final one. `mode` is 'http1.1',
 * 'http1.0' or 'h2c' (--http2-prior-knowledge). Several URLs share one connection when they can.
 */
export async function curl (urls, { mode = 'http1.1', extra = [], timeout = 20_000 } = {}) {
  const flag = { 'http1.1': '--http1.1', 'http1.0': '--http1.0', h2c: '--http2-prior-knowledge' }[mode]
  const list = Array.isArray(urls) ? urls : [urls]
  const sep = '\n@@@END@@@\n'
  const args = ['-sS', '-i', flag, '--max-time', String(timeout / 1000), ...extra]
  for (const url of list) args.push(url, '-w', sep)
  const res = await run('curl', args, { timeout: timeout + 2000 })
  const parts = res.stdout.split(sep).slice(0, list.length)
  return {
    code: res.code,
    stderr: res.stderr.trim(),
    ms: res.ms,
    results: parts.map((part) => summarize(parseCurlOutput(part)))
  }
}

/** Node's http.request: interim responses through the 'information' event. */
export function nodeRequest (origin, path, { agent = false, timeout, headers = {} } = {}) {
  return new Promise((resolve) => {
    const interims = []
    const started = performance.now()
    const req = http.request(origin + path, { agent, timeout, headers })
    req.on('information', (info) => interims.push(info.statusCode))
    req.on('timeout', () => req.destroy(Object.assign(new Error('socket timeout'), { code: 'SOCKET_TIMEOUT' })))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('latin1')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode, body, interims, reusedSocket: req.reusedSocket, ms: performance.now() - started, error: null }))
    })
    req.on('error', (err) => resolve({ status: null, body: null, interims, ms: performance.now() - started, error: err.code ?? err.message }))
    req.end()
  })
}

/** Node's http2 client over h2c: interim responses through the stream's 'headers' event. */
export function nodeHttp2 (origin, paths) {
  return new Promise((resolve) => {
    const session = http2.connect(origin)
    const results = []
    session.on('error', (err) => resolve({ error: err.code ?? err.message, results }))
    let pending = paths.length
    paths.forEach((path, i) => {
      const interims = []
      const stream = session.request({ ':path': path })
      stream.on('headers', (headers) => interims.push(headers[':status']))
      let status = null
      let body = ''
      stream.on('response', (headers) => { status = headers[':status'] })
      stream.setEncoding('latin1')
      stream.on('data', (chunk) => { body += chunk })
      stream.on('error', (err) => { results[i] = { status, body, interims, error: err.code } })
      stream.on('close', () => {
        results[i] ??= { status, body, interims, error: null }
        if (--pending === 0) session.close(() => resolve({ error: null, results }))
      })
      stream.end()
    })
  })
}

/** undici 7 request() with onInfo, through `dispatcher` (an Agent or Pool) or undici's global one. */
export async function undiciRequest (origin, path, { dispatcher, headersTimeout } = {}) {
  const interims = []
  const started = performance.now()
  const own = dispatcher ?? new undici.Agent(headersTimeout === undefined ? {} : { headersTimeout })
  try {
    const res = await undici.request(origin + path, { dispatcher: own, onInfo: (info) => interims.push(info.statusCode) })
    const body = await res.body.text()
    return { status: res.statusCode, body, interims, ms: performance.now() - started, error: null }
  } catch (err) {
    return { status: null, body: null, interims, ms: performance.now() - started, error: err.code ?? err.message }
  } finally {
    if (dispatcher === undefined) await own.close()
  }
}

/** A fetch() (undici 7's, or Node's built-in one): it exposes no interim responses at all. */
export async function fetchWith (fetchImpl, url, { dispatcher } = {}) {
  const started = performance.now()
  try {
    const res = await fetchImpl(url, dispatcher === undefined ? {} : { dispatcher })
    return { status: res.status, body: await res.text(), ms: performance.now() - started, error: null }
  } catch (err) {
    return { status: null, body: null, ms: performance.now() - started, error: err.cause?.code ?? err.code ?? err.message }
  }
}

const PYTHON_CLIENT = `
import http.client, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
headers = json.loads(sys.argv[3])
conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
out = []
for i in range(2):
    try:
        conn.request('GET', path, headers=headers)
        r = conn.getresponse()
        out.append({'status': r.status, 'body': r.read().decode('latin1'), 'error': None})
    except Exception as e:
        out.append({'status': None, 'body': None, 'error': type(e).__name__})
        break
print(json.dumps(out))
`

/** Python's http.client: two requests, one after the other, on one connection. */
export async function pythonClient (port, path, headers = {}) {
  const res = await run('python3', ['-c', PYTHON_CLIENT, String(port), path, JSON.stringify(headers)])
  if (res.code !== 0) return { error: res.stderr.trim() || res.error, responses: [] }
  return { error: null, responses: JSON.parse(res.stdout) }
}

/** Waits until something accepts connections on a loopback port. */
// The socket inodes listening on `port` (on any address: Caddy binds every interface), from the kernel's
// tables; null off Linux.
async function listeners (port) {
  const tables = await Promise.all(['tcp', 'tcp6'].map((t) => readFile(`/proc/net/${t}`, 'latin1').catch(() => null)))
  if (tables[0] === null) return null
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  // Columns: sl local_address rem_address st … inode; st 0A is LISTEN.
  return tables.join('\n').split('\n').map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(hex) && f[3] === '0A').map((f) => `socket:[${f[9]}]`)
}

// `pid` and every process descended from it (Varnish's listening socket is also held by its worker).
async function family (pid) {
  const children = new Map()
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'latin1').catch(() => '')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
  }
  const out = [pid]
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []))
  return out
}

// Who listens on the port: 'ours' (the child or a descendant), 'other', or 'none'.
async function holder (port, child) {
  const sockets = await listeners(port)
  if (sockets === null) { // no /proc: a connection is the best sign there is
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    return ok ? 'ours' : 'none'
  }
  if (sockets.length === 0) return 'none'
  for (const pid of await family(child.pid)) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [])
    for (const fd of fds) {
      if (sockets.includes(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''))) return 'ours'
    }
  }
  return 'other'
}

async function listening (port, child, what, ms = 10_000) {
  const deadline = performance.now() + ms
  let last = 'none'
  while (performance.now() < deadline) {
    last = await holder(port, child)
    if (last === 'ours') return
    if (child.exitCode !== null) break
    await sleep(25)
  }
  const err = new Error(last === 'other'
    ? `${what}: another process holds port ${port}`
    : child.exitCode !== null ? `${what} exited with code ${child.exitCode}` : `${what} did not listen on ${port} within ${ms} ms`)
  if (last === 'other') err.code = 'PORT_TAKEN'
  throw err
}

/** Starts a daemon in the foreground, waits for its port, and returns { port, logs, stop }. */
export async function daemon (what, cmd, args, port, dir, env = process.env) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))])
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await listening(port, child, `${what} (${output})`, 15_000)
  } catch (err) {
    await stop()
    throw Object.assign(new Error(`${err.message}\n${output}`), { code: err.code })
  }
  return { port, origin: `http://127.0.0.1:${port}`, stop, output: () => output, dir }
}

/** HAProxy in front of `upstream` (a port): HTTP/1.1 frontend, `timeout server` as given, `option forwardfor` if asked. */
export function startHaproxy (upstream, { timeoutServer = '30s', forwardfor = false } = {}) {
  return onFreePort('fp-haproxy-', async (port, dir) => {
    const cfg = join(dir, 'haproxy.cfg')
    await writeFile(cfg, [
      'global',
      '  maxconn 256',
      'defaults',
      '  mode http',
      '  option http-keep-alive',
      '  timeout connect 2s',
      '  timeout client 30s',
      `  timeout server ${timeoutServer}`,
      forwardfor ? '  option forwardfor' : '',
      'frontend fe',
      `  bind 127.0.0.1:${port}`,
      '  default_backend be',
      'backend be',
      `  server app 127.0.0.1:${upstream}`,
      ''
    ].join('\n'))
    return daemon('haproxy', 'haproxy', ['-f', cfg, '-db'], port, dir)
  })
}

// The headers of the usual nginx setup for a Node app (Host, X-Real-IP, X-Forwarded-For, -Proto).
const USUAL = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;'
].join(' ')

// A recipe circulated for Strapi (and other Node apps) behind nginx: the usual set plus X-Forwarded-Host and
// X-Forwarded-Server, which Traefik and Apache httpd add too.
const STRAPI = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Forwarded-Host $host;',
  'proxy_set_header X-Forwarded-Server $host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;'
].join(' ')

// The headers ingress-nginx's template sets on every proxied request.
const INGRESS = [
  'proxy_set_header Host $host;',
  'proxy_set_header X-Request-ID $request_id;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Host $host;',
  'proxy_set_header X-Forwarded-Port $server_port;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header X-Forwarded-Scheme $scheme;',
  'proxy_set_header X-Scheme $scheme;'
].join(' ')

/**
 * nginx in front of `upstream`, with its own prefix, pid, logs and temp paths, as a single foreground
 * process. Locations: `/` proxies with HTTP/1.1 and buffering (the usual setup for keep-alive
 * upstreams); `/unbuffered/` the same with proxy_buffering off; `/http10/` with nginx's default
 * proxy_http_version 1.0; `/marked/` like `/` and adds `X-Behind-Nginx: 1` for a `when` gate; `/usual/`
 * like `/` with the usual Node setup's headers; `/usual-marked/` those and `X-Behind-Nginx: 1`; `/ingress/`
 * like `/` with ingress-nginx's header set; `/strapi/` like `/` with the Strapi recipe's headers.
 * `readTimeout` bounds how long nginx waits on a silent upstream; null leaves nginx's default (60 s), as
 * installed.
 */
export function startNginx (upstream, { readTimeout = '3s' } = {}) {
  return onFreePort('fp-nginx-', async (port, dir) => {
    const conf = join(dir, 'nginx.conf')
    const proxy11 = [
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";'
    ].join(' ')
    await writeFile(conf, [
      process.getuid?.() === 0 ? 'user root;' : '',
      'master_process off;',
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log info;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${dir}/client_body;`,
      `  proxy_temp_path ${dir}/proxy;`,
      `  fastcgi_temp_path ${dir}/fastcgi;`,
      `  uwsgi_temp_path ${dir}/uwsgi;`,
      `  scgi_temp_path ${dir}/scgi;`,
      readTimeout === null ? '' : `  proxy_read_timeout ${readTimeout};`,
      `  upstream app { server 127.0.0.1:${upstream}; keepalive 4; }`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    location / { proxy_pass http://app; ${proxy11} }`,
      `    location /unbuffered/ { proxy_pass http://app/; proxy_buffering off; ${proxy11} }`,
      '    location /http10/ { proxy_pass http://app/; }',
      `    location /marked/ { proxy_pass http://app/; ${proxy11} proxy_set_header X-Behind-Nginx 1; }`,
      `    location /usual/ { proxy_pass http://app/; ${proxy11} ${USUAL} }`,
      `    location /usual-marked/ { proxy_pass http://app/; ${proxy11} ${USUAL} proxy_set_header X-Behind-Nginx 1; }`,
      `    location /ingress/ { proxy_pass http://app/; ${proxy11} ${INGRESS} }`,
      `    location /strapi/ { proxy_pass http://app/; ${proxy11} ${STRAPI} }`,
      '  }',
      '}',
      ''
    ].join('\n'))
    const d = await daemon('nginx', 'nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf, '-g', 'daemon off;'], port, dir)
    return { ...d, errorLog: () => readFile(join(dir, 'error.log'), 'latin1').catch(() => '') }
  })
}

/**
 * A raw HTTP/1.1 exchange: writes `requests` (GETs of the given paths, in one write when `pipelined`,
 * else each after the previous response's bytes went quiet) and records every chunk with its arrival
 * time, until the peer closes the connection or `ms` pass.
 */
export function rawExchange (port, paths, { ms = 8000, gap = 0 } = {}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const chunks = []
    let closed = null
    const socket = net.connect(port, '127.0.0.1')
    socket.setEncoding('latin1')
    const send = (path) => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    socket.on('connect', async () => {
      for (const [i, path] of paths.entries()) {
        if (i > 0) await sleep(gap)
        if (socket.destroyed) return
        send(path)
      }
    })
    socket.on('data', (data) => chunks.push({ at: performance.now() - started, data }))
    socket.on('error', (err) => { closed ??= err.code })
    socket.on('close', () => {
      closed ??= 'close'
      clearTimeout(timer)
      resolve({ text: chunks.map((c) => c.data).join(''), chunks, closed, closedAt: performance.now() - started })
    })
    const timer = setTimeout(() => { closed = 'still open'; socket.destroy() }, ms)
  })
}

/**
 * A raw HTTP/1.1 client on one connection: sends a GET for each path (with `headers`) once the previous
 * response is complete, reads interim heads and content-length or chunked bodies, and stops after the
 * last response or when `ms` pass. Each entry of `responses` is { interims, status, headers, body }; a
 * response cut short by the deadline or by the peer closing is left out.
 */
export function rawRequests (port, paths, { ms = 8000, headers = {} } = {}) {
  return new Promise((resolve) => {
    const started = performance.now()
    const responses = []
    let buffer = ''
    let interims = []
    let next = 0
    let done = false
    const socket = net.connect(port, '127.0.0.1')
    socket.setEncoding('latin1')
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    const send = () => socket.write(`GET ${paths[next++]} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`)
    const finish = (closed) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ responses, pending: interims, closed, rest: buffer, ms: performance.now() - started })
    }
    const parse = () => {
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end === -1) return
        const [line, ...fields] = buffer.slice(0, end).split('\r\n')
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(line)?.[1] ?? NaN)
        const head = {}
        for (const field of fields) {
          const i = field.indexOf(':')
          head[field.slice(0, i).toLowerCase()] = field.slice(i + 1).trim()
        }
        if (status >= 100 && status < 200) {
          interims.push(status)
          buffer = buffer.slice(end + 4)
          continue
        }
        let body
        let rest
        if (/chunked/i.test(head['transfer-encoding'] ?? '')) {
          body = ''
          let at = end + 4
          for (;;) {
            const eol = buffer.indexOf('\r\n', at)
            if (eol === -1) return
            const size = parseInt(buffer.slice(at, eol), 16)
            if (buffer.length < eol + 2 + size + 2) return
            if (size === 0) { rest = buffer.slice(eol + 4); break }
            body += buffer.slice(eol + 2, eol + 2 + size)
            at = eol + 2 + size + 2
          }
        } else {
          const length = Number(head['content-length'] ?? 0)
          if (buffer.length < end + 4 + length) return
          body = buffer.slice(end + 4, end + 4 + length)
          rest = buffer.slice(end + 4 + length)
        }
        responses.push({ interims, status, headers: head, body })
        interims = []
        buffer = rest
        if (next < paths.length) send()
        else return finish('done')
      }
    }
    socket.on('connect', send)
    socket.on('data', (data) => { buffer += data; parse() })
    socket.on('error', (err) => finish(err.code ?? err.message))
    socket.on('close', () => finish('closed by peer'))
    const timer = setTimeout(() => finish('timed out'), ms)
  })
}

/** Status codes of every HTTP/1.x response head in a raw byte stream, in order. */
export function statusLines (text) {
  return [...text.matchAll(/^HTTP\/1\.[01] (\d{3}) /gm)].map((m) => Number(m[1]))
}
