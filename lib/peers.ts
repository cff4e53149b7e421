import type { FastifyRequest } from 'fastify'

/**
 * A peer that mishandles 102s, recognised from the request, and the most 102s it can take. Like httpd's
 * `BrowserMatch` workarounds: the plugin's default options must never leave a request worse off than no
 * plugin at all, so a peer known to fail after N interims gets at most N, and one that fails at the first
 * gets none.
 */
export interface PeerRule {
  /** Who it is, as logs and docs name it. */
  readonly name: string
  /** True when this request comes from (or through) that peer. Asked once, just before the first 102. */
  readonly match: (request: FastifyRequest) => boolean
  /** The most 102s that peer may get for one request: 0 for none, `Infinity` for a proxy that passes them all. */
  readonly limit: number
  /**
   * For a proxy: the headers it adds upstream (`'cf-*'` for a prefix). A request whose proxy signs are all
   * explained by proxies it was recognised as is not an unknown path.
   */
  readonly adds?: readonly string[]
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
    evidence: 'measured: test/interop/atlas.test.ts (httpd 2.4)'
  },
  {
    name: 'Traefik',
    match: (request) => request.headers['x-forwarded-server'] !== undefined &&
      (request.headers['x-forwarded-port'] !== undefined || request.headers['x-real-ip'] !== undefined),
    // Go's ReverseProxy forwards every 1xx; Traefik's releases are built with Go 1.26, which has no count cap.
    limit: Infinity,
    adds: ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-server', 'x-real-ip'],
    evidence: 'read from its source: traefik .go-version (Go 1.26); golang/go#65035; docs/interop.md'
  },
  {
    name: 'Apache Traffic Server',
    match: header('via', /ApacheTrafficServer/i),
    // Only 100 and 103 are interim to it: a 102 is taken as the final response.
    limit: 0,
    evidence: 'read from its source (proxy/hdrs/HTTP.h); docs/interop.md'
  },
  {
    name: 'Envoy',
    match: header('x-envoy-expected-rq-timeout-ms', ANY),
    // Forwards the first 1xx only; its route timeout is not reset by 1xx, so more would buy nothing.
    limit: 1,
    adds: ['x-envoy-*', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id'],
    evidence: 'reported: envoyproxy/envoy#18844, #19044; envoy router/upstream_codec_filter.cc'
  },
  {
    name: 'Cloudflare',
    match: header('cf-ray', ANY),
    // Forwards every 1xx, but wants the final response within 125 s of the first 102 (522 otherwise).
    limit: Infinity,
    adds: ['cf-*', 'x-forwarded-for', 'x-forwarded-proto'],
    finalWithin: 125_000,
    evidence: 'cloudflare-docs: 1xx-informational, connection-limits; docs/interop.md'
  }
])

/**
 * Headers that show a proxy stood between the client and the app. A proxy that takes a 102 as final
 * (nginx, Kong, ingress-nginx) adds no header naming itself, only these; so a request that carries one
 * that no recognised proxy explains came through an unknown path. `'x-forwarded-*'` is a prefix.
 */
export const proxySigns: readonly string[] = Object.freeze([
  'forwarded', 'via', 'x-forwarded-*', 'x-real-ip', 'x-scheme', 'x-original-forwarded-for',
  'cf-*', 'x-envoy-*', 'x-varnish', 'x-amzn-trace-id', 'x-cloud-trace-context', 'x-azure-*', 'fastly-*',
  'akamai-origin-hop', 'true-client-ip'
])

/**
 * What a user can declare with `behind`, and the most 102s each lets through. nginx, Varnish and Apache
 * Traffic Server are absent on purpose: no setting of theirs makes a 102 safe.
 */
export const knownPaths = Object.freeze({
  /** No proxy: the signs on a request are the client's own headers. */
  nothing: { limit: Infinity, evidence: 'the app is reached directly' },
  /** Every hop was measured with `fastify-processing probe` and found safe. */
  probed: { limit: Infinity, evidence: 'the user measured the path: bin/probe.ts' },
  haproxy: { limit: Infinity, evidence: 'measured: test/interop/haproxy.test.ts (HAProxy 2.6)' },
  cloudflare: { limit: Infinity, finalWithin: 125_000, evidence: 'cloudflare-docs: 1xx-informational (125 s after a 102)' },
  traefik: { limit: Infinity, evidence: 'read from its source: Go 1.26 ReverseProxy; docs/interop.md' },
  squid: { limit: Infinity, evidence: 'measured: test/interop/atlas.test.ts (forwards them; its read_timeout is not reset)' },
  apache: { limit: 9, evidence: 'measured: test/interop/atlas.test.ts (httpd 2.4)' },
  caddy: { limit: 5, evidence: 'measured: test/interop/atlas.test.ts (Caddy 2.6, Go 1.19)' },
  go: { limit: 5, evidence: 'measured: test/interop/atlas.test.ts (httputil.ReverseProxy, Go 1.19)' },
  envoy: { limit: 1, evidence: 'reported: envoyproxy/envoy#18844' }
} satisfies Record<string, { limit: number, finalWithin?: number, evidence: string }>)

export type PathName = keyof typeof knownPaths
