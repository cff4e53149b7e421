// The compatibility matrix, measured live: every cell comes from a request made just now. Used by
// scripts/interop.js (npm run interop); the peer matrix in docs/peers.md is its output.
import http from 'node:http'
import * as undici from 'undici'
import {
  BODY, CHUNKS, FAST, curl, fetchWith, nodeHttp2, nodeRequest, pythonClient, rawExchange, startApp,
  startHaproxy, startNginx, statusLines, undiciRequest, versions, which
} from '../test/interop/peers.js'

const yes = (ok) => (ok ? 'yes' : '**no**')
const seen = (interims) => (interims.length > 0 ? `yes (${interims.length})` : 'no')
const intact = (r, body = BODY) => r.status === 200 && r.body === body

async function timeoutPair (probe) {
  const withPlugin = await startApp({ threshold: 1000, interval: 1000 })
  const without = await startApp(null)
  try {
    return await Promise.all([probe(withPlugin), probe(without)])
  } finally {
    await withPlugin.close()
    await without.close()
  }
}

const missing = (peer, version) => ({ peer, version, finalOk: '—', seen: '—', notes: 'not installed' })

async function curlRows (v, h2) {
  if (await which('curl') === null) return [missing('curl', v.curl)]
  const app = await startApp(FAST)
  const [h11, h10, h2c] = await Promise.all([
    curl([`${app.origin}/slow`, `${app.origin}/chunked`]),
    curl(`${app.origin}/slow`, { mode: 'http1.0' }),
    curl(`${h2.origin}/slow`, { mode: 'h2c' })
  ])
  await app.close()
  // the HTTP/1.1 run is one connection, the HTTP/1.0 run another
  const reused = app.connections === 2
  const [a, b] = h11.results
  return [
    {
      peer: 'curl, HTTP/1.1',
      version: v.curl,
      finalOk: yes(h11.code === 0 && intact(a) && intact(b, CHUNKS.join(''))),
      seen: seen(a.interims),
      notes: `shown by \`-i\`/\`-v\`; content-length and chunked bodies intact; keep-alive reuse ${reused ? 'works' : '**failed**'}`
    },
    {
      peer: 'curl, HTTP/1.0',
      version: v.curl,
      finalOk: yes(h10.code === 0 && intact(h10.results[0])),
      seen: seen(h10.results[0].interims),
      notes: 'the plugin never sends a 1xx to an HTTP/1.0 request'
    },
    {
      peer: 'curl, h2c (`--http2-prior-knowledge`)',
      version: v.curl,
      finalOk: yes(h2c.code === 0 && intact(h2c.results[0])),
      seen: seen(h2c.results[0].interims),
      notes: 'HTTP/2 HEADERS frames with `:status: 102`'
    }
  ]
}

async function nodeRows (v, app, h2) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const [first, second] = [await nodeRequest(app.origin, '/slow', { agent }), await nodeRequest(app.origin, '/chunked', { agent })]
  agent.destroy()
  const [survived, timedOut] = await timeoutPair((a) => nodeRequest(a.origin, '/slow?ms=3500', { timeout: 2000 }))
  const session = await nodeHttp2(h2.origin, ['/slow', '/chunked'])
  const [f1, f2] = await Promise.all([fetchWith(fetch, `${app.origin}/slow`), fetchWith(fetch, `${app.origin}/chunked`)])
  return [
    {
      peer: 'Node `http.request`',
      version: v.node,
      finalOk: yes(intact(first) && intact(second, CHUNKS.join(''))),
      seen: seen(first.interims),
      notes: `\`'information'\` event; keep-alive reuse ${second.reusedSocket ? 'works' : '**failed**'}; ` +
        `\`timeout: 2000\` with a 3.5 s handler: ${survived.status ?? survived.error} (without the plugin: ${timedOut.status ?? timedOut.error})`
    },
    {
      peer: 'Node `http2` client (h2c)',
      version: v.node,
      finalOk: yes(session.error === null && intact(session.results[0]) && intact(session.results[1], CHUNKS.join(''))),
      seen: seen(session.results[0]?.interims ?? []),
      notes: "stream `'headers'` event with `:status` 102; two streams on one session"
    },
    {
      peer: 'Node built-in `fetch()`',
      version: `${v.node} (undici ${v.nodeUndici})`,
      finalOk: yes(intact(f1) && intact(f2, CHUNKS.join(''))),
      seen: 'no API',
      notes: 'interims are consumed silently'
    }
  ]
}

async function undiciRows (v) {
  const app = await startApp(FAST)
  const pool = new undici.Pool(app.origin, { connections: 1 })
  const r1 = await undiciRequest(app.origin, '/slow', { dispatcher: pool })
  const r2 = await undiciRequest(app.origin, '/chunked', { dispatcher: pool })
  await pool.close()
  const reused = app.connections === 1
  const [f1, f2] = await Promise.all([fetchWith(undici.fetch, `${app.origin}/slow`), fetchWith(undici.fetch, `${app.origin}/chunked`)])
  const [rOk, rFail] = await timeoutPair((a) => undiciRequest(a.origin, '/slow?ms=3500', { headersTimeout: 2000 }))
  const [fOk, fFail] = await timeoutPair(async (a) => {
    const agent = new undici.Agent({ headersTimeout: 2000 })
    try { return await fetchWith(undici.fetch, `${a.origin}/slow?ms=3500`, { dispatcher: agent }) } finally { await agent.close() }
  })
  await app.close()
  const timeoutNote = (ok, fail) => `\`headersTimeout: 2000\` with a 3.5 s handler: ${ok.status ?? ok.error} (without the plugin: ${fail.status ?? fail.error})`
  return [
    {
      peer: 'undici `request()`',
      version: v.undici,
      finalOk: yes(intact(r1) && intact(r2, CHUNKS.join(''))),
      seen: seen(r1.interims),
      notes: `\`onInfo\` callback; keep-alive reuse ${reused ? 'works' : '**failed**'}; ${timeoutNote(rOk, rFail)}`
    },
    {
      peer: 'undici `fetch()`',
      version: v.undici,
      finalOk: yes(intact(f1) && intact(f2, CHUNKS.join(''))),
      seen: 'no API',
      notes: timeoutNote(fOk, fFail)
    }
  ]
}

async function pythonRows (v) {
  const peer = 'Python `http.client`'
  if (await which('python3') === null) return [missing(peer, v.python)]
  const plain = await startApp(FAST)
  const expecting = await startApp({ ...FAST, requireExpect: true })
  const gated = await startApp({ ...FAST, when: (request) => /^(curl|node|undici)/i.test(request.headers['user-agent'] ?? '') })
  try {
    const [broken, withExpect, withWhen] = await Promise.all([
      pythonClient(plain.port, '/slow'),
      pythonClient(expecting.port, '/slow'),
      pythonClient(gated.port, '/slow')
    ])
    const clean = (r) => r.error === null && r.responses.length === 2 && r.responses.every((x) => intact(x))
    const [first, next] = broken.responses
    return [
      {
        peer: `${peer}, no gating`,
        version: v.python,
        finalOk: yes(clean(broken)),
        seen: first?.status === 102 ? 'as the final response' : seen([]),
        notes: `only 100 is skipped: the first 102 is returned as the response (status ${first?.status}, empty body); ` +
          `the next request on that connection reads a leftover (status ${next?.status ?? next?.error})`
      },
      {
        peer: `${peer}, \`requireExpect: true\``,
        version: v.python,
        finalOk: yes(clean(withExpect)),
        seen: 'no',
        notes: 'it sends no `Expect: 102-processing`, so it gets no 102'
      },
      {
        peer: `${peer}, \`when\` (User-Agent allow-list)`,
        version: v.python,
        finalOk: yes(clean(withWhen)),
        seen: 'no',
        notes: 'it sends no User-Agent; `when` returns false'
      }
    ]
  } finally {
    for (const app of [plain, expecting, gated]) await app.close()
  }
}

async function haproxyRows (v, app) {
  const peer = 'HAProxy (HTTP/1.1 frontend)'
  if (await which('haproxy') === null || await which('curl') === null) return [missing(peer, v.haproxy)]
  const proxy = await startHaproxy(app.port)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  let forwarded, again
  try {
    forwarded = await curl([`${proxy.origin}/slow`, `${proxy.origin}/chunked`])
    await nodeRequest(proxy.origin, '/slow', { agent })
    again = await nodeRequest(proxy.origin, '/slow', { agent })
  } finally {
    agent.destroy()
    await proxy.stop()
  }
  const [ok, fail] = await timeoutPair(async (a) => {
    const p = await startHaproxy(a.port, { timeoutServer: '2s' })
    try { return await curl(`${p.origin}/slow?ms=6000`) } finally { await p.stop() }
  })
  const [a, b] = forwarded.results
  return [{
    peer,
    version: v.haproxy,
    finalOk: yes(forwarded.code === 0 && intact(a) && intact(b, CHUNKS.join(''))),
    seen: seen(a.interims),
    notes: `forwards every 102; keep-alive reuse ${again.reusedSocket && intact(again) && again.interims.length > 0 ? 'works' : '**failed**'}; \`timeout server 2s\`, 6 s handler, a 102 every 1 s: ${ok.results[0].status} ` +
      `(${ok.results[0].interims.length} × 102; without the plugin: ${fail.results[0].status})`
  }]
}

async function nginxRows (v) {
  const peer = 'nginx'
  if (await which('nginx') === null || await which('curl') === null) return [missing(peer, v.nginx)]
  const app = await startApp({ ...FAST, when: (request) => request.headers['x-behind-nginx'] !== '1' })
  const nginx = await startNginx(app.port, { readTimeout: '3s' })
  try {
    const [buffered, unbuffered, http10, marked] = await Promise.all([
      rawExchange(nginx.port, ['/slow'], { ms: 8000 }),
      rawExchange(nginx.port, ['/unbuffered/slow', '/unbuffered/fast'], { gap: 1500, ms: 8000 }),
      curl(`${nginx.origin}/http10/slow`),
      curl(`${nginx.origin}/marked/slow`)
    ])
    const bs = statusLines(buffered.text)
    const us = statusLines(unbuffered.text)
    const secondAnswered = unbuffered.text.slice(unbuffered.text.indexOf(BODY) + BODY.length).includes('HTTP/')
    return [
      {
        peer: `${peer}, \`proxy_http_version 1.1\``,
        version: v.nginx,
        finalOk: yes(bs.length === 1 && bs[0] === 200),
        seen: bs[0] === 102 ? 'as the final response' : seen([]),
        notes: `the client gets only the first 102 (statuses: ${bs.join(', ') || 'none'}), then the connection closes ` +
          `at \`proxy_read_timeout\` (${(buffered.closedAt / 1000).toFixed(1)} s); the 200 is lost`
      },
      {
        peer: `${peer}, \`proxy_http_version 1.1\`, \`proxy_buffering off\``,
        version: v.nginx,
        finalOk: yes(us.length === 1 && us[0] === 200 && secondAnswered),
        seen: us[0] === 102 ? 'as the final response' : seen([]),
        notes: `the first 102 is the final response; the rest (${us.slice(1).join(', ')}, body) leaks as unframed bytes; ` +
          `the next request on that connection ${secondAnswered ? 'is answered' : 'gets no response'}`
      },
      {
        peer: `${peer}, default \`proxy_http_version 1.0\``,
        version: v.nginx,
        finalOk: yes(http10.code === 0 && intact(http10.results[0])),
        seen: seen(http10.results[0].interims),
        notes: 'the plugin sends no 102 to HTTP/1.0 upstream requests (no timeout help either)'
      },
      {
        peer: `${peer}, \`proxy_http_version 1.1\`, \`when\` gate on a header nginx sets`,
        version: v.nginx,
        finalOk: yes(marked.code === 0 && intact(marked.results[0])),
        seen: seen(marked.results[0].interims),
        notes: '`proxy_set_header X-Behind-Nginx 1` and `when: (req) => req.headers[\'x-behind-nginx\'] !== \'1\'`'
      }
    ]
  } finally {
    await nginx.stop()
    await app.close()
  }
}

/** Measures every row, concurrently. */
export async function measureMatrix () {
  const v = await versions()
  const app = await startApp(FAST)
  const h2 = await startApp(FAST, { http2: true })
  try {
    const groups = await Promise.all([
      curlRows(v, h2), nodeRows(v, app, h2), undiciRows(v), pythonRows(v), haproxyRows(v, app), nginxRows(v), atlasRows()
    ])
    return { versions: v, rows: groups.flat() }
  } finally {
    await app.close()
    await h2.close()
  }
}

/** The matrix as a Markdown table. */
export function toMarkdown (rows) {
  const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ')
  const lines = ['| peer | version | final response OK | 102 seen | notes |', '|---|---|---|---|---|']
  for (const r of rows) lines.push(`| ${[r.peer, r.version, r.finalOk, r.seen, r.notes].map(cell).join(' | ')} |`)
  return lines.join('\n')
}

/** The atlas's rows: each client and proxy, raw (peer recognition off), with its cap and what the defaults do. */
async function atlasRows () {
  const A = await import('../test/interop/atlas.js')
  const v = await A.atlasVersions()
  // behind: 'nothing': raw means what the peer itself does, whatever headers the proxies add.
  const raw = { threshold: 50, interval: 50, peers: [], behind: 'nothing' }
  const status = async (p) => (await p)[0]?.status ?? null
  const viaProxy = (start) => async (app, q) => {
    const p = await start(app.port)
    try { return (await curl([`${p.origin}/slow?${q}`])).results[0]?.status ?? null } finally { await p.stop() }
  }
  const cap = (probe, a, b) => A.capProbe([a, b], probe).then((r) => (r[a] === 200 && r[b] !== 200 ? `${a}, then ${r[b] ?? 'an error'} at the ${b}th` : `none seen up to ${b}`))
  const client = async (name, peer, version, how) => {
    const { responses, connections } = await A.clientRun(name, raw, { n: name === 'urllib' ? 1 : 2 })
    const ok = responses.every((r) => r.ok)
    const sent = responses[0]?.sent ?? 0
    const failure = (r) => r.error === null ? `status ${r.status}` : r.error.split(': ').at(-1)
    return {
      peer,
      version,
      finalOk: yes(ok),
      seen: ok ? how(responses[0]) : `fails the request: ${[...new Set(responses.map(failure))].join('; ')}`,
      notes: `${ok ? `User-Agent \`${responses[0]?.ua}\`; ${sent} × 102 sent; ` : ''}${responses.length > 1 ? (connections === 1 ? 'keep-alive reuse works' : `${connections} connections for ${responses.length} requests`) : 'one request'}`
    }
  }
  const none = () => 'skipped silently'
  const [java, go, requests, urllib, httpx, aiohttp, ruby, chromium, javaCap, goCap, apacheCap, caddyCap, goProxyCap] = await Promise.all([
    client('java', 'Java `java.net.http.HttpClient`', v.java, none),
    client('go', 'Go `net/http` client', v.go, (r) => `yes (${r.interims}), \`httptrace.Got1xxResponse\``),
    client('requests', 'Python `requests`', v.requests, none),
    client('urllib', 'Python `urllib.request`', v.python, none),
    client('httpx', 'Python `httpx`', v.httpx, none),
    client('aiohttp', 'Python `aiohttp`', v.aiohttp, none),
    client('ruby', 'Ruby `Net::HTTP`', v.ruby, none),
    A.withApp({ threshold: 50, interval: 50 }, (app) => A.chromiumFetch(app.origin, 500)),
    cap((app, q) => status(A.javaClient(`${app.origin}/slow?${q}`)), 8, 9),
    cap((app, q) => status(A.goClient(`${app.origin}/slow?${q}`)), 5, 6),
    cap(viaProxy(A.startApache), 9, 10),
    cap(viaProxy(A.startCaddy), 5, 6),
    cap(viaProxy(A.startGoProxy), 5, 6)
  ])
  java.notes += `; cap: ${javaCap}; default options: at most 8 (recognised)`
  go.notes += `; cap: ${goCap}; default options: at most 5 (recognised)`
  requests.notes += '; default options: none (recognised)'
  urllib.notes += '; default options: none (recognised)'
  const chromiumRow = { peer: 'Chromium headless, `fetch()` from a page', version: v.chromium, finalOk: yes(chromium.ok), seen: 'no API (skips every 1xx but 103)', notes: `${chromium.sent} × 102 sent` }
  const forwarded = async (start, name, version, extra) => {
    const get = (plugin) => A.throughProxy(plugin, start, undefined, async (p) => (await curl([`${p.origin}/slow?ms=400`, `${p.origin}/slow?ms=400`])).results)
    const [results, withDefaults] = await Promise.all([get({ threshold: 50, interval: 50, limit: 3, peers: [], behind: 'nothing' }), get({ threshold: 50, interval: 50 })])
    const headersOf = (r) => { try { return JSON.parse(r?.body ?? '').headers } catch { return undefined } }
    const upstream = headersOf(results[0]) ?? headersOf(withDefaults[0]) ?? {}
    const added = Object.keys(upstream).filter((h) => /^(via|x-forwarded|x-varnish|x-real-ip|surrogate)/.test(h)).join(', ')
    const ok = results.every((r) => r.status === 200)
    return { peer: name, version, finalOk: yes(ok), seen: ok ? (results[0].interims.length > 0 ? `forwarded (${results[0].interims.length})` : 'dropped') : `${results.map((r) => r.status).join(', ')} to the client`, notes: `adds upstream: ${added || 'nothing recognisable'}; ${extra}` }
  }
  const timeoutPairFor = async (start, options) => (await Promise.all([{ threshold: 100, interval: 400, limit: 5, peers: [], behind: 'nothing' }, null].map((p) =>
    A.throughProxy(p, start, options, async (proxy) => (await curl([`${proxy.origin}/slow?ms=2300`], { timeout: 10_000 })).results[0]?.status ?? null)))).join(' with the plugin, ') + ' without'
  const [apacheT, caddyT, squidT] = await Promise.all([timeoutPairFor(A.startApache, { timeout: 1 }), timeoutPairFor(A.startCaddy, { readTimeout: '1s' }), timeoutPairFor(A.startSquid, { readTimeout: 1 })])
  const proxies = await Promise.all([
    forwarded(A.startApache, 'Apache `mod_proxy_http`', v.apache, `cap: ${apacheCap}; \`ProxyPass timeout=1\`, 2.3 s handler: ${apacheT} (a 102 resets it); default options: none (its headers are proxy signs, which nginx can send too); \`behind: 'apache'\` sends 9`),
    forwarded(A.startCaddy, 'Caddy `reverse_proxy`', v.caddy, `cap: ${caddyCap}; \`read_timeout 1s\`, 2.3 s handler: ${caddyT} (a 102 resets it); not recognisable: default options send none; \`behind: 'caddy'\` sends 5`),
    forwarded(A.startSquid, 'Squid (reverse proxy, accel)', v.squid, `no cap seen up to 130; \`read_timeout 1 second\`, 2.3 s handler: ${squidT} (a 102 does not reset it)`),
    forwarded(A.startGoProxy, 'Go `httputil.ReverseProxy`', v.go, `cap: ${goProxyCap}; not recognisable: default options send none; \`behind: 'go'\` sends 5`),
    forwarded(A.startVarnish, 'Varnish', v.varnish, 'a 1xx from the backend fails the fetch; default options: no 102 (recognised by X-Varnish), a clean 200')
  ])
  return [java, go, requests, urllib, httpx, aiohttp, ruby, chromiumRow, ...proxies]
}

/** The atlas rows, measured; exported for npm run interop. */
export { atlasRows }
