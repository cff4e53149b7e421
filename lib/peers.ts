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
  /** The most 102s that peer may get for one request; 0 for none. */
  readonly limit: number
  /** Where the limit comes from: a test in this repository, a changelog, an issue, a document. */
  readonly evidence: string
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
 * atlas, including the peers that cannot be recognised from the request and need a recipe instead.
 */
export const knownPeers: readonly PeerRule[] = Object.freeze([
  {
    name: 'Java java.net.http.HttpClient',
    match: header('user-agent', /^Java-http-client\//),
    // jdk.httpclient.maxNonFinalResponses, default 8 (JDK 20+, 17.0.12+, 11.0.24+): the 9th interim fails
    // the request with "Too many interim responses received".
    limit: 8,
    evidence: 'measured: test/interop/java.test.ts (OpenJDK 17); JDK-8292044'
  },
  {
    name: 'Go net/http client',
    match: header('user-agent', /^Go-http-client\//),
    // Go before 1.24 fails the request at the 6th 1xx ("too many 1xx informational responses"); the
    // User-Agent does not say which Go it is, so every Go client gets the older limit.
    limit: 5,
    evidence: 'measured: test/interop/go.test.ts (Go 1.19); golang/go#65035'
  },
  {
    name: 'Python requests',
    match: header('user-agent', /^python-requests\//),
    // http.client underneath takes the first 102 as the response: status 102, empty body.
    limit: 0,
    evidence: 'measured: test/interop/python.test.ts'
  },
  {
    name: 'Python urllib',
    match: header('user-agent', /^Python-urllib\//),
    // Raises HTTPError 102 at the first interim.
    limit: 0,
    evidence: 'measured: test/interop/python.test.ts'
  },
  {
    name: 'Varnish',
    match: header('x-varnish', ANY),
    // A 1xx from the backend fails the fetch: the client gets a 503.
    limit: 0,
    evidence: 'measured: test/interop/varnish.test.ts (Varnish 7.1)'
  },
  {
    name: 'Apache httpd mod_proxy_http',
    match: header('x-forwarded-server', ANY),
    // "AH00898 Too many (10) interim responses": the 10th interim gets the client a 502.
    limit: 9,
    evidence: 'measured: test/interop/apache.test.ts (httpd 2.4)'
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
    evidence: 'reported: envoyproxy/envoy#18844, #19044'
  }
])
