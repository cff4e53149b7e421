// Proves: bad options fail at startup with a coded TypeError naming route, option and value.
import Fastify from 'fastify'
import t from 'tap'
import processing from '../index.js'

interface Coded { code: string, message: string, name: string }

async function pluginError (options: unknown): Promise<Coded> {
  const app = Fastify()
  try {
    await app.register(processing, options as object)
    await app.ready()
  } catch (err) {
    t.type(err, TypeError)
    return err as Coded
  } finally {
    await app.close().catch(() => {})
  }
  throw new Error(`options ${JSON.stringify(options)} were accepted`)
}

async function routeError (processingConfig: unknown): Promise<Coded> {
  const app = Fastify()
  await app.register(processing)
  try {
    app.get('/r', { config: { processing: processingConfig as boolean } }, async () => 'ok')
  } catch (err) {
    t.type(err, TypeError)
    return err as Coded
  } finally {
    await app.close()
  }
  throw new Error(`route config ${String(processingConfig)} was accepted`)
}

t.test('bad plugin options fail at registration, coded, naming the option and the value', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ threshold: -1 }, 'FST_PROCESSING_INVALID_OPTION', /"threshold" must be an integer from 1 to 2147483647, received -1/],
    [{ threshold: 0 }, 'FST_PROCESSING_INVALID_OPTION', /"threshold" .* received 0/],
    [{ threshold: 1.5 }, 'FST_PROCESSING_INVALID_OPTION', /"threshold" .* received 1\.5/],
    [{ threshold: Number.NaN }, 'FST_PROCESSING_INVALID_OPTION', /"threshold" .* received NaN/],
    [{ interval: Infinity }, 'FST_PROCESSING_INVALID_OPTION', /"interval" .* received Infinity/],
    [{ interval: 2 ** 31 }, 'FST_PROCESSING_INVALID_OPTION', /"interval" .* received 2147483648/],
    [{ interval: '1000' }, 'FST_PROCESSING_INVALID_OPTION', /"interval" .* received '1000'/],
    [{ limit: 0 }, 'FST_PROCESSING_INVALID_OPTION', /"limit" must be an integer from 1 to 9007199254740991, received 0/],
    [{ limit: null }, 'FST_PROCESSING_INVALID_OPTION', /"limit" .* received null/],
    [{ requireExpect: 'yes' }, 'FST_PROCESSING_INVALID_OPTION', /"requireExpect" must be a boolean, received 'yes'/],
    [{ global: 1 }, 'FST_PROCESSING_INVALID_OPTION', /"global" must be a boolean, received 1/],
    [{ when: true }, 'FST_PROCESSING_INVALID_OPTION', /"when" must be a synchronous function \(request\) => boolean, received true/],
    [{ when: async () => true }, 'FST_PROCESSING_INVALID_OPTION', /"when" must be a synchronous function \(request\) => boolean, received \[AsyncFunction: when\]/],
    [{ interimBytes: 10 }, 'FST_PROCESSING_INVALID_OPTION', /"interimBytes" must be an integer from 64 to 9007199254740991, received 10/],
    [{ behind: 'varnish' }, 'FST_PROCESSING_INVALID_OPTION', /"behind" must be one of 'nothing', 'probed', 'haproxy', .*'nginx', 'kong', 'ingress-nginx', a function \(request\) => boolean, or an array of them, received 'varnish'/],
    [{ behind: [] }, 'FST_PROCESSING_INVALID_OPTION', /"behind" must be one of .* received \[\]/],
    [{ behind: ['haproxy', 42] }, 'FST_PROCESSING_INVALID_OPTION', /"behind\[1\]" must be one of .* received 42/],
    [{ behind: async () => true }, 'FST_PROCESSING_INVALID_OPTION', /"behind" must be one of .* received \[AsyncFunction: behind\]/],
    [{ peers: 'java' }, 'FST_PROCESSING_INVALID_OPTION', /"peers" must be an array of peer rules, received 'java'/],
    [{ peers: [{ name: 'x', match: () => true, limit: 1, evidence: '' }, { name: 'y', match: /y/, limit: 1 }] }, 'FST_PROCESSING_INVALID_OPTION', /"peers\[1\]" must be \{ name: string, match: \(request\) => boolean, limit: integer >= 0 or Infinity, adds\?: string\[\], path\?: one of 'nothing', .*'ingress-nginx' \}, received \{ name: 'y', match: \/y\/, limit: 1 \}/],
    [{ peers: [{ name: 'p', match: () => true, limit: 1, adds: ['via'], path: 'nginx-plus' }] }, 'FST_PROCESSING_INVALID_OPTION', /"peers\[0\]" must be .* received .*path: 'nginx-plus'/],
    [{ peers: [{ name: 'z', match: () => true, limit: -1 }] }, 'FST_PROCESSING_INVALID_OPTION', /"peers\[0\]" must be .* limit: -1/],
    [{ treshold: 100 }, 'FST_PROCESSING_UNKNOWN_OPTION', /unknown option "treshold" \(known options: threshold, interval, limit, interimBytes, requireExpect, when, peers, behind, global, probe\)/],
    [[], 'FST_PROCESSING_INVALID_OPTION', /"options" must be an object, received \[\]/],
    [new Map(), 'FST_PROCESSING_INVALID_OPTION', /"options" must be an object, received Map/]
  ]
  for (const [options, code, message] of cases) {
    const err = await pluginError(options)
    t.equal(err.code, code, `${code} for ${JSON.stringify(options)}`)
    t.match(err.message, /^fastify-processing options: /)
    t.match(err.message, message)
  }
})

t.test('bad route config fails when the route is declared, naming route, option and value', async (t) => {
  const cases: Array<[unknown, string, RegExp]> = [
    ['yes', 'FST_PROCESSING_INVALID_OPTION', /^route GET \/r: "config.processing" must be true, false or an options object, received 'yes'$/],
    [1, 'FST_PROCESSING_INVALID_OPTION', /"config.processing" .* received 1$/],
    [null, 'FST_PROCESSING_INVALID_OPTION', /"config.processing" .* received null$/],
    [[1], 'FST_PROCESSING_INVALID_OPTION', /"config.processing" .* received \[ 1 \]$/],
    [{ threshold: -5 }, 'FST_PROCESSING_INVALID_OPTION', /^route GET \/r: "config.processing.threshold" must be an integer from 1 to 2147483647, received -5$/],
    [{ interval: 0.5 }, 'FST_PROCESSING_INVALID_OPTION', /"config.processing.interval" .* received 0\.5$/],
    [{ limit: -1 }, 'FST_PROCESSING_INVALID_OPTION', /"config.processing.limit" .* received -1$/],
    [{ when: 'always' }, 'FST_PROCESSING_INVALID_OPTION', /"config.processing.when" .* received 'always'$/],
    [{ global: true }, 'FST_PROCESSING_UNKNOWN_OPTION', /unknown option "config.processing.global"/],
    [{ thresold: 1 }, 'FST_PROCESSING_UNKNOWN_OPTION', /^route GET \/r: unknown option "config.processing.thresold"/]
  ]
  for (const [config, code, message] of cases) {
    const err = await routeError(config)
    t.equal(err.code, code, `${code} for ${JSON.stringify(config)}`)
    t.match(err.message, message)
  }
})

t.test('a bad route config inside a child plugin fails ready()', async (t) => {
  const app = Fastify()
  await app.register(processing)
  app.register(async (child) => {
    child.post('/x', { config: { processing: { threshold: 0 } } }, async () => 'ok')
  }, { prefix: '/child' })
  await t.rejects(Promise.resolve(app.ready()), {
    code: 'FST_PROCESSING_INVALID_OPTION',
    message: 'route POST /child/x: "config.processing.threshold" must be an integer from 1 to 2147483647, received 0'
  })
})

t.test('valid options are accepted, including Fastify register options', async (t) => {
  const app = Fastify()
  await app.register(processing, {
    threshold: 1,
    interval: 2 ** 31 - 1,
    limit: Number.MAX_SAFE_INTEGER,
    requireExpect: true,
    when: () => true,
    global: false,
    logLevel: 'info'
  } as object)
  app.get('/a', { config: { processing: true } }, async () => 'a')
  app.get('/b', { config: { processing: { threshold: 10, when: () => false } } }, async () => 'b')
  app.get('/c', { config: { processing: false } }, async () => 'c')
  app.get('/d', { config: { processing: {} } }, async () => 'd')
  await app.ready()
  for (const path of ['/a', '/b', '/c', '/d']) {
    t.equal((await app.inject(path)).statusCode, 200)
  }
  await app.close()
})
