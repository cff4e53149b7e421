// Proves: a proxy that lost its port to another process between freePort() and its own bind is seen to
// have lost it, and is started again on another port, so no test talks to the wrong process.
import { execPath } from 'node:process'
import net from 'node:net'
import t from 'tap'
import { daemon, onFreePort } from './peers.js'

// A stand-in daemon: a Node HTTP server that answers `name`, run as `node -e` (or under sh, as a child of
// the daemon's own process, the way Varnish's worker holds its socket).
const server = (name: string, port: number) =>
  `require('node:http').createServer((q, s) => s.end(${JSON.stringify(name)})).listen(${port}, '127.0.0.1')`

const get = (port: number) => fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } }).then((r) => r.text())

t.test('a daemon whose port another process holds is started again on another port', async (t) => {
  const squatter = net.createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nsquatter'))
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve))
  t.teardown(() => squatter.close())
  const taken = (squatter.address() as net.AddressInfo).port

  const tried: Array<{ port: number, code: string | undefined }> = []
  const started = await onFreePort('fp-ports-', async (port: number, dir: string) => {
    const use = tried.length === 0 ? taken : port
    try {
      const d = await daemon('stand-in', execPath, ['-e', server('ours', use)], use, dir)
      tried.push({ port: use, code: undefined })
      return d
    } catch (err) {
      tried.push({ port: use, code: (err as { code?: string }).code })
      throw err
    }
  })
  t.teardown(() => started.stop())
  t.same(tried.map((a) => a.code), ['PORT_TAKEN', undefined], 'the first start lost its port and said so; the second started')
  t.not(started.port, taken)
  t.equal(await get(started.port), 'ours', 'the started daemon is the one that answers')
})

t.test("a daemon's port held by its child process counts as its own", async (t) => {
  const started = await onFreePort('fp-ports-', (port: number, dir: string) =>
    daemon('stand-in under sh', 'sh', ['-c', 'trap \'kill $child\' TERM; "$NODE" -e "$CODE" & child=$!; wait'], port, dir, { ...process.env, NODE: execPath, CODE: server('child', port) }))
  t.teardown(() => started.stop())
  t.equal(await get(started.port), 'child')
})

t.test('a daemon that fails for another reason is not retried', async (t) => {
  let attempts = 0
  await t.rejects(onFreePort('fp-ports-', (port: number, dir: string) => {
    attempts++
    return daemon('stand-in', execPath, ['-e', 'process.exit(3)'], port, dir)
  }), /exited with code 3/)
  t.equal(attempts, 1)
})
