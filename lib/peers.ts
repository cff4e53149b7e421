import type { FastifyRequest } from 'fastify'

/**
 * A peer that mishandles 102s, recognised from the request, and the most 102s it can take. Like httpd's
 * `BrowserMatch` workarounds: the plugin's default options must never leave a request worse off than no
 * plugin at all, so a peer known to fail after N interims gets at most N, and one that fails at the first
 * gets none. A row can only lower what a request gets: any header a proxy adds, another proxy (or a client)
 * can add too, so recognising a proxy never lets a 102 through a request that shows proxy signs; only the
 * user's `behind` does.
 */
export interface PeerRule {
  /** Who it is, as logs and docs name it. */
  readonly name: string
  /** True when this request comes from (or through) that peer. Asked once, just before the first 102. */
  readonly match: (request: FastifyRequest) => boolean
  /** The most 102s that peer may get for one request: 0 for none, `Infinity` for a proxy that passes them all. */
  readonly limit: number
  /**
   * For a proxy: the headers it adds upstream in its usual setup, as its source or a measurement shows. It
   * marks the row as a proxy's, and explains nothing: a request with these headers and no declared path
   * gets no 102, whatever the row's `limit`. (The test of every proxy row sends exactly these.)
   */
  readonly adds?: readonly string[]
  /**
   * For a proxy that a `behind` name declares: that name. When a request this row recognises is withheld
   * for its proxy signs, the warning names the value ("these headers look like Traefik's: if Traefik is in
   * front, `behind: 'traefik'`").
   */
  readonly path?: PathName
  /** For a proxy that wants the final response within this many ms of the first 102, whatever follows. */
  readonly finalWithin?: number
  /** Where the limit comes from: a test in this repository, a changelog, an issue, a document. */
  readonly evidence?: string
}

function header (name: string, pattern: RegExp): (request: FastifyRequest) => boolean {
  return (request) => {
    const value = request.headers[name]
    return value !== undefined && pattern.test(String(value))
  }
}

const ANY = /[^]*/

/**
 * The peers the plugin knows by default. Each row cites its evidence; docs/interop.md has the whole
 * atlas, including the peers that cannot be recognised from the request and need a declaration instead.
 */
export const knownPeers: readonly PeerRule[] = Object.freeze([
  {
    name: 'Java java.net.http.HttpClient',
    match: header('user-agent', /^Java-http-client\//),
    // jdk.httpclient.maxNonFinalResponses, default 8 (JDK 20+, 17.0.12+, 11.0.24+): the 9th interim fails
    // the request with "Too many interim responses received".
    limit: 8,
    evidence: 'measured: test/interop/atlas.test.ts (OpenJDK 17); JDK-8292044'
  },
  {
    name: 'Go net/http client',
    match: header('user-agent', /^Go-http-client\//),
    // Go before 1.24 fails the request at the 6th 1xx ("too many 1xx informational responses"); the
    // User-Agent does not say which Go it is, so every Go client gets the older limit.
    limit: 5,
    evidence: 'measured: test/interop/atlas.test.ts (Go 1.19); golang/go#65035'
  },
  {
    name: 'OkHttp before 4.11',
    match: header('user-agent', /^okhttp\/(?:[0-3]\.|4\.(?:\d|10)\.)/),
    // Before 4.11 the first 102 becomes the response: code 102, empty body, no exception.
    limit: 0,
    evidence: 'measured: test/interop/okhttp.test.ts (OkHttp 3.13.1); square/okhttp CHANGELOG 4.11.0'
  },
  {
    name: 'Python requests',
    match: header('user-agent', /^python-requests\//),
    // http.client underneath takes the first 102 as the response: status 102, empty body.
    limit: 0,
    evidence: 'measured: test/interop/atlas.test.ts, test/interop/python.test.ts'
  },
  {
    name: 'Python urllib',
    match: header('user-agent', /^Python-urllib\//),
    // Raises HTTPError 102 at the first interim.
    limit: 0,
    evidence: 'measured: test/interop/atlas.test.ts'
  },
  {
    name: 'Varnish',
    match: header('x-varnish', ANY),
    // A 1xx from the backend fails the fetch: the client gets a 503.
    limit: 0,
    adds: ['x-varnish'],
    evidence: 'measured: test/interop/atlas.test.ts (Varnish 7.1)'
  },
  {
    name: 'Apache httpd mod_proxy_http',
    // Traefik adds X-Forwarded-Server too, with X-Forwarded-Port and X-Real-Ip, which httpd never adds.
    match: (request) => request.headers['x-forwarded-server'] !== undefined &&
      request.headers['x-forwarded-port'] === undefined && request.headers['x-real-ip'] === undefined,
    // "AH00898 Too many (10) interim responses": the 10th interim gets the client a 502.
    limit: 9,
    adds: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-server'],
    path: 'apache',
    evidence: 'measured: test/interop/atlas.test.ts (httpd 2.4)'
  },
  {
    name: 'Traefik',
    match: (request) => request.headers['x-forwarded-server'] !== undefined &&
      (request.headers['x-forwarded-port'] !== undefined || request.headers['x-real-ip'] !== undefined),
    // Go's ReverseProxy forwards every 1xx; Traefik's releases are built with Go 1.26, which has no count cap.
    limit: Infinity,
    adds: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-server', 'x-real-ip'],
    path: 'traefik',
    evidence: 'read from its source: traefik .go-version (Go 1.26); golang/go#65035; docs/interop.md'
  },
  {
    name: 'Apache Traffic Server',
    match: header('via', /ApacheTrafficServer/i),
    // Only 100 and 103 are interim to it: a 102 is taken as the final response.
    limit: 0,
    adds: ['via', 'client-ip', 'x-forwarded-for'],
    evidence: 'read from its source (proxy/hdrs/HTTP.h); docs/interop.md'
  },
  {
    name: 'Envoy',
    match: header('x-envoy-expected-rq-timeout-ms', ANY),
    // Forwards the first 1xx only; its route timeout is not reset by 1xx, so more would buy nothing.
    limit: 1,
    adds: ['x-envoy-expected-rq-timeout-ms', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id'],
    path: 'envoy',
    evidence: 'reported: envoyproxy/envoy#18844, #19044; envoy router/upstream_codec_filter.cc'
  },
  {
    name: 'Cloudflare',
    match: header('cf-ray', ANY),
    // Forwards every 1xx, but wants the final response within 125 s of the first 102 (522 otherwise).
    limit: Infinity,
    adds: ['cf-ray', 'cf-connecting-ip', 'cf-visitor', 'x-forwarded-for', 'x-forwarded-proto'],
    path: 'cloudflare',
    finalWithin: 125_000,
    evidence: 'cloudflare-docs: 1xx-informational, connection-limits; docs/interop.md'
  }
])

/**
 * Headers that show a proxy stood between the client and the app. A proxy that takes a 102 as final
 * (nginx, Kong, ingress-nginx) adds no header naming itself, only these, and can add any of them; so a
 * request that carries one gets no 102 until `behind` declares the path. `'x-forwarded-*'` is a prefix.
 */
export const proxySigns: readonly string[] = Object.freeze([
  'forwarded', 'via', 'x-forwarded-*', 'x-real-ip', 'x-scheme', 'x-original-forwarded-for',
  'cf-*', 'x-envoy-*', 'x-varnish', 'x-amzn-trace-id', 'x-cloud-trace-context', 'x-azure-*', 'fastly-*',
  'akamai-origin-hop', 'true-client-ip'
])

/**
 * What a user can declare with `behind`, and the most 102s each lets through. `'nginx'`, `'kong'` and
 * `'ingress-nginx'` let none through, and say so quietly: no setting of theirs makes a 102 safe, and the
 * user who declares them needs no warning. Varnish and Apache Traffic Server need no name: their rows in
 * `knownPeers` recognise them and send none.
 */
export const knownPaths = Object.freeze({
  /** No proxy: the signs on a request are the client's own headers. */
  nothing: { limit: Infinity, evidence: 'the app is reached directly' },
  /** Every hop was measured with `fastify-processing probe` and found safe. */
  probed: { limit: Infinity, evidence: 'the user measured the path: bin/verdict.ts' },
  haproxy: { limit: Infinity, evidence: 'measured: test/interop/haproxy.test.ts (HAProxy 2.6)' },
  cloudflare: { limit: Infinity, finalWithin: 125_000, evidence: 'cloudflare-docs: 1xx-informational (125 s after a 102)' },
  traefik: { limit: Infinity, evidence: 'read from its source: Go 1.26 ReverseProxy; docs/interop.md' },
  squid: { limit: Infinity, evidence: 'measured: test/interop/atlas.test.ts (forwards them; its read_timeout is not reset)' },
  apache: { limit: 9, evidence: 'measured: test/interop/atlas.test.ts (httpd 2.4)' },
  caddy: { limit: 5, evidence: 'measured: test/interop/atlas.test.ts (Caddy 2.6, Go 1.19)' },
  go: { limit: 5, evidence: 'measured: test/interop/atlas.test.ts (httputil.ReverseProxy, Go 1.19)' },
  envoy: { limit: 1, evidence: 'reported: envoyproxy/envoy#18844' },
  nginx: { limit: 0, evidence: 'measured: test/interop/nginx.test.ts (nginx 1.22 takes the first 102 as the final response)' },
  kong: { limit: 0, evidence: 'read from its source: Kong runs on OpenResty, which is nginx; docs/interop.md' },
  'ingress-nginx': { limit: 0, evidence: 'measured with its header set: test/interop/proxy-signs.test.ts; it is nginx' }
} satisfies Record<string, { limit: number, finalWithin?: number, evidence: string }>)

export type PathName = keyof typeof knownPaths
