// The atlas: the clients and reverse proxies users deploy with (Debian 12's packages), each measured live
// against a Fastify app that uses the built plugin. Shared by the atlas tap tests, which assert on what
// these functions measure, and by the matrix (npm run interop), so that the README and CI agree.
import { spawn } from 'node:child_process'
import { chown, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import processing from '../../dist/index.js'
import { daemon, onFreePort, run } from './peers.js'

/** Debian's python3: the one with python3-httpx, -aiohttp and -requests (a pyenv python3 may shadow it). */
export const PYTHON = '/usr/bin/python3'

/**
 * A Fastify app with the plugin (`plugin` = its options, or null for none). GET /slow?ms=N answers after N
 * ms with what it received: the User-Agent, every request header (what a proxy adds), how many 102s it
 * sent. GET /page is a page whose script fetch()es /slow and writes the outcome into the DOM (Chromium).
 */
export async function startAtlasApp (plugin) {
  const app = Fastify({ keepAliveTimeout: 10_000 })
  if (plugin !== null) await app.register(processing, plugin)
  let connections = 0
  app.server.on('connection', () => { connections++ })
  app.get('/slow', { config: { processing: plugin !== null } }, async (request, reply) => {
    await sleep(Number(request.query.ms ?? 700))
    // ?sent=N: also wait until N 102s went out, so that a cap probe never depends on the machine's speed.
    for (let i = 0; i < 1000 && (reply.processingSent ?? 0) < Number(request.query.sent ?? 0); i++) await sleep(10)
    return { ok: true, sent: reply.processingSent ?? 0, headers: request.headers }
  })
  app.get('/page', async (request, reply) => {
    reply.type('text/html')
    return `<!doctype html><body><pre id="out">pending</pre><script>
      fetch('/slow?ms=${Number(request.query.ms ?? 700)}').then(async (r) => {
        document.getElementById('out').textContent = JSON.stringify({ status: r.status, body: await r.text() })
      }, (e) => { document.getElementById('out').textContent = JSON.stringify({ error: String(e) }) })
    </script></body>`
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  return { port, origin: `http://127.0.0.1:${port}`, get connections () { return connections }, close: () => app.close() }
}

/** A response as every client probe reports it. `interims` is null where the client has no API for 1xx. */
function result (status, body, { interims = null, error = null } = {}) {
  let json = null
  try { json = body === null ? null : JSON.parse(body) } catch {}
  return { status, ok: status === 200 && json?.ok === true, interims, error, ua: json?.headers?.['user-agent'] ?? null, upstream: json?.headers ?? null, sent: json?.sent ?? null }
}

let workdir
/** One scratch folder per process for the probes' sources and the Go build cache. */
async function scratch () {
  workdir ??= await mkdtemp(join(tmpdir(), 'fp-atlas-'))
  return workdir
}

async function source (name, text) {
  const file = join(await scratch(), name)
  await writeFile(file, text)
  return file
}

function parsed (res, map) {
  if (res.code !== 0) return [result(null, null, { error: (res.stderr.trim() || res.error || `exit ${res.code}`).slice(0, 300) })]
  return JSON.parse(res.stdout.trim().split('\n').at(-1)).map(map)
}

const JAVA = `import java.net.URI;
import java.net.http.*;
public class Main {
  static String q(String s) { return s == null ? "null" : "\\"" + s.replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"").replace("\\n", " ") + "\\""; }
  public static void main(String[] args) throws Exception {
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < Integer.parseInt(args[1]); i++) {
      if (i > 0) out.append(",");
      try {
        HttpResponse<String> res = client.send(HttpRequest.newBuilder(URI.create(args[0])).build(), HttpResponse.BodyHandlers.ofString());
        out.append("{\\"status\\":" + res.statusCode() + ",\\"body\\":" + q(res.body()) + ",\\"error\\":null}");
      } catch (Exception e) {
        out.append("{\\"status\\":null,\\"body\\":null,\\"error\\":" + q(String.valueOf(e)) + "}");
      }
    }
    System.out.println(out.append("]"));
  }
}
`

/** Java 17's java.net.http.HttpClient: `n` requests in a row on one client (it reuses connections). */
export async function javaClient (url, n = 1) {
  const file = await source('Main.java', JAVA)
  return parsed(await run('java', [file, url, String(n)], { timeout: 60_000 }), (r) => result(r.status, r.body, { error: r.error }))
}

const OKHTTP = `import okhttp3.*;
public class Main {
  static String q(String s) { return s == null ? "null" : "\\"" + s.replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"").replace("\\n", " ") + "\\""; }
  public static void main(String[] args) throws Exception {
    OkHttpClient client = new OkHttpClient();
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < args.length; i++) {
      if (i > 0) out.append(",");
      long started = System.nanoTime();
      try (Response res = client.newCall(new Request.Builder().url(args[i]).build()).execute()) {
        String body = res.body().string();
        out.append("{\\"status\\":" + res.code() + ",\\"body\\":" + q(body) + ",\\"error\\":null");
      } catch (Exception e) {
        out.append("{\\"status\\":null,\\"body\\":null,\\"error\\":" + q(String.valueOf(e)));
      }
      out.append(",\\"ms\\":" + (System.nanoTime() - started) / 1000000 + "}");
    }
    System.out.println(out.append("]"));
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }
}
`

/** Debian's OkHttp (libokhttp-java: OkHttp 3.13.1, okio 1.16): the jars `java` needs on its class path. */
export const OKHTTP_CLASSPATH = '/usr/share/java/okhttp.jar:/usr/share/java/okio.jar'

/**
 * OkHttp's `Call.execute()`: one request per URL, in a row, on one client (it pools connections). Each
 * result also says how long its call took (`ms`), which tells a fresh answer from a leftover one.
 */
export async function okhttpClient (urls) {
  const file = await source('OkMain.java', OKHTTP.replace('public class Main', 'public class OkMain'))
  return parsed(await run('java', ['-cp', OKHTTP_CLASSPATH, file, ...urls], { timeout: 60_000 }), (r) => ({ ...result(r.status, r.body, { error: r.error }), body: r.body, ms: r.ms }))
}

const GO_CLIENT = `package main

import (
  "context"
  "encoding/json"
  "fmt"
  "io"
  "net/http"
  "net/http/httptrace"
  "net/textproto"
  "os"
  "strconv"
)

type result struct {
  Status   *int    \`json:"status"\`
  Body     *string \`json:"body"\`
  Interims int     \`json:"interims"\`
  Error    *string \`json:"error"\`
}

func main() {
  n, _ := strconv.Atoi(os.Args[2])
  out := []result{}
  for i := 0; i < n; i++ {
    r := result{}
    trace := &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { r.Interims++; return nil }}
    req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", os.Args[1], nil)
    res, err := http.DefaultClient.Do(req)
    if err != nil {
      e := err.Error()
      r.Error = &e
    } else {
      b, _ := io.ReadAll(res.Body)
      res.Body.Close()
      s := string(b)
      r.Status = &res.StatusCode
      r.Body = &s
    }
    out = append(out, r)
  }
  j, _ := json.Marshal(out)
  fmt.Println(string(j))
}
`

const GO_PROXY = `package main

import (
  "net/http"
  "net/http/httputil"
  "net/url"
  "os"
)

func main() {
  target, _ := url.Parse(os.Args[1])
  http.ListenAndServe(os.Args[2], httputil.NewSingleHostReverseProxy(target))
}
`

/** The environment `go` runs in: a private cache and no network (GOPROXY=off), whatever the machine has. */
async function goEnv () {
  const dir = await scratch()
  return { ...process.env, HOME: dir, GOCACHE: join(dir, 'gocache'), GOPATH: join(dir, 'gopath'), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOPROXY: 'off' }
}

const goBuilds = new Map()
/** Builds a Go program once per process; returns the binary. */
async function goBuild (name, text) {
  if (!goBuilds.has(name)) {
    goBuilds.set(name, (async () => {
      const file = await source(`${name}.go`, text)
      const bin = join(await scratch(), name)
      const res = await runEnv('go', ['build', '-o', bin, file], await goEnv(), 120_000)
      if (res.code !== 0) throw new Error(`go build ${name}: ${res.stderr}`)
      return bin
    })())
  }
  return goBuilds.get(name)
}

function runEnv (cmd, args, env, timeout = 30_000) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr, error: null }) })
  })
}

/** Go's net/http client (Debian 12: Go 1.19): `n` requests in a row; it counts the 1xx it sees. */
export async function goClient (url, n = 1) {
  const bin = await goBuild('goclient', GO_CLIENT)
  return parsed(await run(bin, [url, String(n)], { timeout: 60_000 }), (r) => result(r.status, r.body, { interims: r.interims, error: r.error }))
}

const PYTHON_LIBS = {
  requests: `
import json, sys, requests
s = requests.Session(); out = []
for i in range(int(sys.argv[2])):
    try:
        r = s.get(sys.argv[1], timeout=30); out.append({"status": r.status_code, "body": r.text, "error": None})
    except Exception as e:
        out.append({"status": None, "body": None, "error": repr(e)})
print(json.dumps(out))`,
  urllib: `
import json, sys, urllib.request, urllib.error
out = []
for i in range(int(sys.argv[2])):
    try:
        r = urllib.request.urlopen(sys.argv[1], timeout=30); out.append({"status": r.status, "body": r.read().decode(), "error": None})
    except urllib.error.HTTPError as e:
        out.append({"status": e.code, "body": None, "error": "HTTPError %d" % e.code})
    except Exception as e:
        out.append({"status": None, "body": None, "error": repr(e)})
print(json.dumps(out))`,
  httpx: `
import json, sys, httpx
out = []
with httpx.Client(timeout=30) as c:
    for i in range(int(sys.argv[2])):
        try:
            r = c.get(sys.argv[1]); out.append({"status": r.status_code, "body": r.text, "error": None})
        except Exception as e:
            out.append({"status": None, "body": None, "error": repr(e)})
print(json.dumps(out))`,
  aiohttp: `
import asyncio, json, sys, aiohttp
async def main():
    out = []
    async with aiohttp.ClientSession() as s:
        for i in range(int(sys.argv[2])):
            try:
                async with s.get(sys.argv[1]) as r:
                    out.append({"status": r.status, "body": await r.text(), "error": None})
            except Exception as e:
                out.append({"status": None, "body": None, "error": repr(e)})
    print(json.dumps(out))
asyncio.run(main())`
}

/** A Python HTTP library (Debian's python3-* packages): `n` requests in a row on one session. */
export async function pythonLib (lib, url, n = 1) {
  return parsed(await run(PYTHON, ['-c', PYTHON_LIBS[lib], url, String(n)], { timeout: 60_000 }), (r) => result(r.status, r.body, { error: r.error }))
}

const RUBY = `
require 'net/http'; require 'json'
uri = URI(ARGV[0]); out = []
Net::HTTP.start(uri.host, uri.port, read_timeout: 30) do |http|
  ARGV[1].to_i.times do
    begin
      r = http.request(Net::HTTP::Get.new(uri)); out << { status: r.code.to_i, body: r.body, error: nil }
    rescue => e
      out << { status: nil, body: nil, error: e.inspect }
    end
  end
end
puts JSON.generate(out)`

/** Ruby's Net::HTTP: `n` requests on one connection. */
export async function rubyClient (url, n = 1) {
  return parsed(await run('ruby', ['-e', RUBY, url, String(n)], { timeout: 60_000 }), (r) => result(r.status, r.body, { error: r.error }))
}

/** Chromium, headless: a page on the app fetch()es /slow?ms=N; what the page saw. */
export async function chromiumFetch (origin, ms) {
  const profile = await mkdtemp(join(tmpdir(), 'fp-chromium-'))
  try {
    const res = await run('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, `--virtual-time-budget=${ms + 5000}`,
      '--dump-dom', `${origin}/page?ms=${ms}`
    ], { timeout: 60_000 })
    const text = /<pre id="out">([^<]*)<\/pre>/.exec(res.stdout)?.[1]
    if (text === undefined || text === 'pending') return result(null, null, { error: `no result in the page (${res.stderr.trim().split('\n').at(-1) ?? ''})` })
    const out = JSON.parse(text.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>'))
    return result(out.status ?? null, out.body ?? null, { error: out.error ?? null })
  } finally {
    await rm(profile, { recursive: true, force: true })
  }
}

/** Apache httpd with mod_proxy_http in front of `upstream`; `timeout` is ProxyPass's, in seconds. */
export function startApache (upstream, { timeout = 30 } = {}) {
  return onFreePort('fp-apache-', async (port, dir) => {
    const mods = '/usr/lib/apache2/modules'
    await writeFile(join(dir, 'httpd.conf'), [
      `ServerRoot ${dir}`, `Listen 127.0.0.1:${port}`, 'ServerName 127.0.0.1',
      `LoadModule mpm_event_module ${mods}/mod_mpm_event.so`, `LoadModule authz_core_module ${mods}/mod_authz_core.so`,
      `LoadModule proxy_module ${mods}/mod_proxy.so`, `LoadModule proxy_http_module ${mods}/mod_proxy_http.so`,
      'User www-data', 'Group www-data', `PidFile ${dir}/httpd.pid`, `ErrorLog ${dir}/error.log`, `Mutex file:${dir} default`,
      `DefaultRuntimeDir ${dir}`, 'LogLevel warn',
      `ProxyPass / http://127.0.0.1:${upstream}/ timeout=${timeout}`, `ProxyPassReverse / http://127.0.0.1:${upstream}/`
    ].join('\n') + '\n')
    return daemon('apache2', 'apache2', ['-X', '-f', join(dir, 'httpd.conf')], port, dir)
  })
}

/**
 * Caddy's reverse_proxy in front of `upstream`; `readTimeout` is its transport's read_timeout, and
 * `responseHeaderTimeout` (null: unset) its response_header_timeout, a clock that 1xx do not reset.
 */
export function startCaddy (upstream, { readTimeout = '30s', responseHeaderTimeout = null } = {}) {
  const headerTimeout = responseHeaderTimeout === null ? '' : `\n      response_header_timeout ${responseHeaderTimeout}`
  return onFreePort('fp-caddy-', async (port, dir) => {
    await writeFile(join(dir, 'Caddyfile'), `{
  admin off
  auto_https off
}
http://127.0.0.1:${port} {
  reverse_proxy 127.0.0.1:${upstream} {
    transport http {
      read_timeout ${readTimeout}${headerTimeout}
    }
  }
}
`)
    return daemon('caddy', 'caddy', ['run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], port, dir,
      { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir })
  })
}

/** Varnish in front of `upstream`, with its defaults but `first_byte_timeout` (seconds). */
export function startVarnish (upstream, { firstByteTimeout = 60 } = {}) {
  return onFreePort('fp-varnish-', (port, dir) => daemon('varnishd', 'varnishd', [
    '-F', '-j', 'none', '-n', dir, '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${upstream}`,
    '-p', `first_byte_timeout=${firstByteTimeout}`, '-s', 'malloc,16m'
  ], port, dir))
}

/** Squid as a reverse proxy (accel mode) in front of `upstream`; `readTimeout` in seconds. */
export function startSquid (upstream, { readTimeout = 30 } = {}) {
  return onFreePort('fp-squid-', async (port, dir) => {
    await mkdir(join(dir, 'run'))
    await writeFile(join(dir, 'squid.conf'), [
      `http_port 127.0.0.1:${port} accel defaultsite=app`, `cache_peer 127.0.0.1 parent ${upstream} 0 no-query originserver name=app`,
      'http_access allow all', 'cache_peer_access app allow all', 'cache deny all', `read_timeout ${readTimeout} seconds`,
      `pid_filename ${dir}/run/squid.pid`, `cache_log ${dir}/run/cache.log`, 'access_log none', `coredump_dir ${dir}/run`,
      'cache_effective_user proxy', 'shutdown_lifetime 0 seconds', 'max_filedescriptors 1024'
    ].join('\n') + '\n')
    await chown(join(dir, 'run'), 13, 13).catch(() => {})
    return daemon('squid', 'squid', ['-N', '-f', join(dir, 'squid.conf')], port, dir)
  })
}

/**
 * h2o (Debian 12: 2.2.5) as a reverse proxy in front of `upstream`; `ioTimeout` is its proxy.timeout.io
 * in ms (h2o's default: 30000).
 */
export function startH2o (upstream, { ioTimeout = 30_000 } = {}) {
  return onFreePort('fp-h2o-', async (port, dir) => {
    await writeFile(join(dir, 'h2o.conf'), [
      'listen:', '  host: 127.0.0.1', `  port: ${port}`, `pid-file: ${dir}/h2o.pid`, `error-log: ${dir}/error.log`,
      process.getuid?.() === 0 ? 'user: root' : '', `proxy.timeout.io: ${ioTimeout}`,
      'hosts:', '  default:', '    paths:', '      /:', `        proxy.reverse.url: http://127.0.0.1:${upstream}/`
    ].join('\n') + '\n')
    return daemon('h2o', 'h2o', ['-c', join(dir, 'h2o.conf')], port, dir)
  })
}

/** lighttpd (Debian 12: 1.4.69) with mod_proxy in front of `upstream`, at its defaults otherwise. */
export function startLighttpd (upstream) {
  return onFreePort('fp-lighttpd-', async (port, dir) => {
    await writeFile(join(dir, 'lighttpd.conf'), [
      `server.document-root = "${dir}"`, 'server.bind = "127.0.0.1"', `server.port = ${port}`,
      `server.errorlog = "${dir}/error.log"`, 'server.modules = ( "mod_proxy" )',
      `proxy.server = ( "" => ( ( "host" => "127.0.0.1", "port" => ${upstream} ) ) )`
    ].join('\n') + '\n')
    return daemon('lighttpd', 'lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')], port, dir)
  })
}

/**
 * Apache Traffic Server (Debian 12: 9.2) in front of `upstream`: Debian's own configuration, copied to a
 * private run root, with only the port, the remap rule and a 16 MB cache changed.
 */
export function startTrafficServer (upstream) {
  return onFreePort('fp-ats-', async (port, dir) => {
    const etc = join(dir, 'etc')
    await cp('/etc/trafficserver', etc, { recursive: true })
    for (const sub of ['log', 'run', 'cache']) await mkdir(join(dir, sub))
    const records = (await readFile(join(etc, 'records.config'), 'latin1'))
      .replace(/^CONFIG proxy\.config\.http\.server_ports .*$/m, `CONFIG proxy.config.http.server_ports STRING 127.0.0.1:${port}`)
    await writeFile(join(etc, 'records.config'), `${records}\nCONFIG proxy.config.admin.user_id STRING #-1\n`)
    await writeFile(join(etc, 'remap.config'), `map / http://127.0.0.1:${upstream}/\n`)
    await writeFile(join(etc, 'storage.config'), `${join(dir, 'cache')} 16M\n`)
    const layout = {
      prefix: '/usr',
      exec_prefix: '/usr',
      bindir: '/usr/bin',
      sbindir: '/usr/sbin',
      sysconfdir: etc,
      datadir: '/usr/share/trafficserver',
      includedir: '/usr/include',
      libdir: '/usr/lib/trafficserver',
      libexecdir: '/usr/lib/trafficserver/modules',
      localstatedir: join(dir, 'run'),
      runtimedir: join(dir, 'run'),
      logdir: join(dir, 'log'),
      cachedir: join(dir, 'cache')
    }
    await writeFile(join(dir, 'runroot.yaml'), Object.entries(layout).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n')
    return daemon('traffic_server', 'traffic_server', [`--run-root=${join(dir, 'runroot.yaml')}`], port, dir)
  })
}

/** Go's httputil.ReverseProxy (Go 1.19, as Traefik and many Go gateways use it) in front of `upstream`. */
export async function startGoProxy (upstream) {
  const bin = await goBuild('goproxy', GO_PROXY)
  return onFreePort('fp-goproxy-', (port, dir) => daemon('go reverse proxy', bin, [`http://127.0.0.1:${upstream}`, `127.0.0.1:${port}`], port, dir))
}

/** Versions of the atlas's peers, as each reports it. */
export async function atlasVersions () {
  const first = (res, re) => (re.exec(`${res.stdout}\n${res.stderr}`) ?? [])[1] ?? 'missing'
  const [java, go, chromium, py, ruby, apache, caddy, varnish, squid] = await Promise.all([
    run('java', ['-version']), run('go', ['version']), run('chromium', ['--version']),
    run(PYTHON, ['-c', 'import sys, httpx, aiohttp, requests; print(sys.version.split()[0], httpx.__version__, aiohttp.__version__, requests.__version__)']),
    run('ruby', ['--version']), run('apache2', ['-v']), run('caddy', ['version']), run('varnishd', ['-V']), run('squid', ['-v'])
  ])
  const [python, httpx, aiohttp, requests] = py.code === 0 ? py.stdout.trim().split(' ') : ['missing', 'missing', 'missing', 'missing']
  return {
    java: first(java, /version "([^"]+)"/),
    go: first(go, /go version go(\S+)/),
    chromium: first(chromium, /Chromium (\S+)/),
    python,
    httpx,
    aiohttp,
    requests,
    ruby: first(ruby, /ruby (\S+)/),
    apache: first(apache, /Apache\/(\S+)/),
    caddy: first(caddy, /v?(\d+\.\d+\.\d+)/),
    varnish: first(varnish, /varnish-(\S+)/),
    squid: first(squid, /Version (\S+)/)
  }
}

/** Runs `fn` against a fresh app with the plugin options given (null: no plugin); closes it after. */
export async function withApp (plugin, fn) {
  const app = await startAtlasApp(plugin)
  try {
    return await fn(app)
  } finally {
    await app.close()
  }
}

/** Runs `fn` against a proxy (started by `start` with `options`) in front of a fresh app. */
export function throughProxy (plugin, start, options, fn) {
  return withApp(plugin, async (app) => {
    const p = await start(app.port, options)
    try {
      return await fn(p, app)
    } finally {
      await p.stop()
    }
  })
}

const CLIENTS = {
  java: (url, n) => javaClient(url, n),
  go: (url, n) => goClient(url, n),
  requests: (url, n) => pythonLib('requests', url, n),
  urllib: (url, n) => pythonLib('urllib', url, n),
  httpx: (url, n) => pythonLib('httpx', url, n),
  aiohttp: (url, n) => pythonLib('aiohttp', url, n),
  ruby: (url, n) => rubyClient(url, n)
}
export const CLIENT_NAMES = Object.keys(CLIENTS)

/** One client, `n` requests in a row to a route that answers after `ms`, against its own app. */
export function clientRun (name, plugin, { ms = 400, n = 2 } = {}) {
  return withApp(plugin, async (app) => {
    const responses = await CLIENTS[name](`${app.origin}/slow?ms=${ms}`, n)
    return { responses, connections: app.connections }
  })
}

/**
 * The most 1xx a client or proxy takes before it fails the request: tries `limit` = each of `tries`
 * (peer recognition off, proxy headers ignored with `behind: 'nothing'`, a 102 every 10 ms; the route
 * answers once all `limit` went out) and reports
 * what each one ended in.
 */
export async function capProbe (tries, probe) {
  const out = {}
  await Promise.all(tries.map(async (limit) => {
    out[limit] = await withApp({ threshold: 10, interval: 10, limit, peers: [], behind: 'nothing' }, (app) => probe(app, `ms=50&sent=${limit}`))
  }))
  return out
}
