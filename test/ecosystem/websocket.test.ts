// Proves: beside @fastify/websocket with global: true, a WebSocket handshake gets no 102 before its 101 (raw and Python websockets).
import websocket from '@fastify/websocket'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import t from 'tap'
import processing from '../../index.js'
import { missing } from '../interop/needs.js'
import { checkResponse, checkReuse, Client, ecoServer, exchange, EXPECTED_102S, http, sleep, slow, slowly, versionOf } from './harness.js'

// matrix: @fastify/websocket
// A handshake is answered by 101 Switching Protocols, and a client reads the first response to its Upgrade
// as the handshake's answer: a 102 before the 101 fails it (Python's websockets: "server rejected
// WebSocket connection: HTTP 102"). No request that asks to upgrade may get a 102, even with
// `global: true` and hooks slower than the threshold.

const PYTHON = '/usr/bin/python3'
const key = 'dGhlIHNhbXBsZSBub25jZQ=='
const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')

/** A masked client text frame (RFC 6455 §5.2), short payloads only. */
function textFrame (text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = Buffer.from([1, 2, 3, 4])
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)])
}

async function server (t: Parameters<typeof ecoServer>[0]): Promise<number> {
  const { port } = await ecoServer(t, async (app) => {
    await app.register(processing, { ...slow, global: true })
    await app.register(websocket)
    app.get('/ws', {
      websocket: true,
      // An authentication check that takes longer than the threshold.
      preValidation: async () => { await sleep(400) }
    }, (socket) => {
      socket.on('message', (message: Buffer) => socket.send(`echo:${message.toString()}`))
    })
    app.get('/work', slowly('done'))
  })
  return port
}

function python (script: string, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, ['-c', script, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

t.test(`@fastify/websocket ${versionOf('@fastify/websocket')}: no 102 before a 101, with global: true and a slow preValidation`, async (t) => {
  const port = await server(t)
  {
    const client = await Client.connect(port)
    client.write(http('GET', '/ws', {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': 13
    }))
    const res = await client.read()
    t.same(res.interims.map((i) => i.status), [], 'nothing before the 101')
    t.equal(res.status, 101)
    t.equal(res.header('sec-websocket-accept'), accept)
    client.write(textFrame('ping'))
    const echo = Buffer.from('echo:ping')
    while (client.pending.length < 2 + echo.length && !client.closed) await sleep(5)
    t.same([...client.pending], [0x81, echo.length, ...echo], 'the connection speaks WebSocket: an unmasked text frame back')
    client.socket.destroy()
  }
  {
    // The same app still sends 102s to an ordinary slow request.
    const { client, res } = await exchange(port, http('GET', '/work'))
    checkResponse(t, res, { status: 200, interims: EXPECTED_102S, body: 'done', what: 'plain request' })
    await checkReuse(t, client, 'plain request')
  }
})

t.test('Python websockets (Debian python3-websockets) completes the handshake', async (t) => {
  const probe = await python('import websockets; print(websockets.__version__)')
  if (probe.code !== 0) {
    missing(t, 'python3-websockets', 'python3-websockets')
    return
  }
  const port = await server(t)
  const script = [
    'import asyncio, sys, websockets',
    'async def main():',
    '    async with websockets.connect(sys.argv[1]) as ws:',
    '        await ws.send("ping")',
    '        print(await ws.recv())',
    'asyncio.run(main())'
  ].join('\n')
  const run = await python(script, `ws://127.0.0.1:${port}/ws`)
  t.same([run.code, run.stdout.trim()], [0, 'echo:ping'], `websockets ${probe.stdout.trim()}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`)
})
