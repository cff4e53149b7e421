// Proves: `Expect: 102-processing`, requireExpect and when decide who gets 102s; logs count them.
import type { FastifyReply } from 'fastify'
import { execFile } from 'node:child_process'
import http2 from 'node:http2'
import { promisify } from 'node:util'
import t from 'tap'
import processing from '../index.js'
import { captureLogs, rawExchange, request, serve, sleep, statusLines, until } from './helpers.js'
import { needs } from './interop/needs.js'

const run = promisify(execFile)

const untilSent = (n: number) => async (_req: unknown, reply: FastifyReply) => {
  await until(() => reply.processingSent === n, `${n} 102s`)
  return { sent: n }
}

const expectRequest = (expect: string): string =>
  `GET /slow HTTP/1.1\r\nHost: x\r\nExpect: ${expect}\r\nConnection: close\r\n\r\n`

t.test('Expect: 102-processing gets 417 from plain Node/Fastify, and reaches the route with the plugin', async (t) => {
  const routes = (app: import('fastify').FastifyInstance): void => {
    app.get('/slow', { config: { processing: { threshold: 10 } } }, async (_req, reply) => {
      await sleep(60)
      return { sent: reply.processingSent }
    })
  }
  const without = await serve(t, null, routes)
  const plain = await rawExchange(without.port, (s) => s.write(expectRequest('102-processing')))
  t.same(statusLines(plain), [417], 'without the plugin')

  const withPlugin = await serve(t, {}, routes)
  const text = await rawExchange(withPlugin.port, (s) => s.write(expectRequest('102-Processing')))
  t.same(statusLines(text), [102, 200], 'with the plugin')
  t.match(text, /\{"sent":1\}$/)

  const undated = (text: string): string => text.replace(/^Date: .*\r\n/m, '')
  for (const other of ['something-else', '102-processing, something-else']) {
    const refused = await rawExchange(withPlugin.port, (s) => s.write(expectRequest(other)))
    const reference = await rawExchange(without.port, (s) => s.write(expectRequest(other)))
    t.same(statusLines(refused), [417], `"${other}" is still refused`)
    t.equal(undated(refused), undated(reference), 'byte for byte as Node answers without the plugin')
  }
})

t.test('Expect: 102-processing over HTTP/2', async (t) => {
  const { port } = await serve(t, { threshold: 10 }, (app) => {
    app.get('/slow', { config: { processing: true } }, untilSent(1))
  }, { http2: true })
  const session = http2.connect(`http://127.0.0.1:${port}`)
  t.teardown(() => session.close())
  const result = await new Promise<{ status: unknown, infos: unknown[] }>((resolve) => {
    const infos: unknown[] = []
    const stream = session.request({ ':path': '/slow', expect: '102-processing' })
    stream.on('headers', (h) => infos.push(h[':status']))
    stream.on('response', (h) => { stream.resume(); stream.on('end', () => resolve({ status: h[':status'], infos })) })
  })
  t.same(result, { status: 200, infos: [102] })
})

t.test('the Expect handling is installed once per server, however often the plugin is registered', async (t) => {
  const { port } = await serve(t, null, (app) => {
    for (const path of ['/a', '/b']) {
      app.register(async (child) => {
        await child.register(processing, { threshold: 10 })
        child.get(path, { config: { processing: true } }, untilSent(1))
      })
    }
  })
  const text = await rawExchange(port, (s) => s.write(expectRequest('102-processing').replace('/slow', '/b')))
  t.same(statusLines(text), [102, 200], 'one response, not one per registration')
})

t.test('requireExpect: a client asking with Expect gets 102s, one not asking none; Python http.client gets a clean 200', async (t) => {
  const { port } = await serve(t, { threshold: 20, interval: 40, requireExpect: true }, (app) => {
    app.get('/slow', { config: { processing: true } }, async (req, reply) => {
      if (req.headers.expect !== undefined) await until(() => reply.processingSent === 2, 'two 102s')
      else await sleep(150)
      return { sent: reply.processingSent }
    })
  })
  const asking = await request(port, '/slow', { headers: { expect: '102-processing' } })
  t.same(asking.infos.map((i) => i.status), [102, 102])
  t.equal(asking.body, '{"sent":2}')
  t.same((await request(port, '/slow')).infos, [], 'no Expect: no 102')

  if (await needs(t, 'curl')) {
    const curl = await run('curl', ['-sv', '-H', 'Expect: 102-processing', `http://127.0.0.1:${port}/slow`])
    t.equal(curl.stderr.match(/< HTTP\/1\.1 102 Processing/g)?.length, 2, 'curl asking with Expect gets them too')
    t.equal(curl.stdout, '{"sent":2}')
  }
  if (!await needs(t, 'python3')) return
  const python = await run('python3', ['-c', `
import http.client
c = http.client.HTTPConnection('127.0.0.1', ${port})
for _ in range(2):
    c.request('GET', '/slow')
    r = c.getresponse()
    print(r.status, r.read().decode())
`])
  t.equal(python.stdout, '200 {"sent":0}\n200 {"sent":0}\n', 'both requests on one connection are clean')
})

t.test('Python http.client without gating takes the 102 for the response (why requireExpect exists)', async (t) => {
  const { port } = await serve(t, { threshold: 20 }, (app) => {
    app.get('/slow', { config: { processing: true } }, untilSent(1))
  })
  if (!await needs(t, 'python3')) return
  const python = await run('python3', ['-c', `
import http.client
c = http.client.HTTPConnection('127.0.0.1', ${port})
c.request('GET', '/slow')
r = c.getresponse()
print(r.status, repr(r.read()))
`])
  t.equal(python.stdout, "102 b''\n")
})

t.test('when: asked once per request before its first 102; false means none', async (t) => {
  let asked = 0
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/slow', {
      config: {
        processing: {
          when: (req) => { asked++; return req.headers['x-via-nginx'] === undefined }
        }
      }
    }, async (req, reply) => {
      if (req.headers['x-via-nginx'] === undefined) await until(() => reply.processingSent === 3, 'three 102s')
      else await sleep(80)
      return { sent: reply.processingSent }
    })
  })
  const direct = await request(port, '/slow')
  t.equal(direct.infos.length, 3)
  t.equal(asked, 1, 'asked once, not once per 102')
  const proxied = await request(port, '/slow', { headers: { 'x-via-nginx': '1' } })
  t.equal(proxied.infos.length, 0)
  t.equal(proxied.body, '{"sent":0}')
  t.equal(asked, 2)
})

t.test('a when() that throws means no 102, never a failed request, and one warning per route', async (t) => {
  const { lines, logger } = captureLogs()
  const { port } = await serve(t, { threshold: 10, when: () => { throw new Error('bad predicate') } }, (app) => {
    for (const path of ['/a', '/b']) {
      app.get(path, { config: { processing: true } }, async (_req, reply) => {
        await sleep(60)
        return { sent: reply.processingSent }
      })
    }
  }, { logger })
  for (const path of ['/a', '/a', '/b']) {
    const res = await request(port, path)
    t.equal(res.status, 200)
    t.equal(res.body, '{"sent":0}')
  }
  const warnings = lines.filter((l) => l.level === 40)
  t.equal(warnings.length, 2, 'once for /a, once for /b')
  t.match(warnings[0], { msg: /`when` threw/, err: { message: 'bad predicate' } })
})

t.test('observability: processingSent on the reply, a trace line per 102, a debug line at the end', async (t) => {
  const { lines, logger } = captureLogs()
  const { port } = await serve(t, { threshold: 10, interval: 10 }, (app) => {
    app.get('/slow', { config: { processing: true } }, untilSent(2))
  }, { logger })
  const res = await request(port, '/slow')
  t.equal(res.body, '{"sent":2}')
  await until(() => lines.some((l) => l.msg === 'fastify-processing: response closed'), 'the closing log line')
  const traces = lines.filter((l) => l.level === 10 && l.processingSent !== undefined)
  t.same(traces.map((l) => l.processingSent), [1, 2])
  const done = lines.find((l) => l.msg === 'fastify-processing: response closed')
  t.match(done, { level: 20, processingSent: 2, reqId: traces[0]!.reqId })
})
