// npm run demo: a real server on localhost with a slow route, called with Node's http client, printing
// what arrives on the wire and when. `npm run demo -- --serve` then keeps the server up for curl.
// `npm run demo -- --runtime bun` (or deno) runs this same file, server and client, under the pinned Bun or
// Deno that `npm run runtimes` installs.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

const at = process.argv.indexOf('--runtime')
if (at !== -1) {
  const name = process.argv[at + 1] ?? ''
  if (!['bun', 'deno', 'node'].includes(name)) {
    console.error('usage: npm run demo -- --runtime bun|deno|node [--serve]')
    process.exit(1)
  }
  const { PINNED, runtimeCommand } = await import('../scripts/runtimes.js')
  let command
  try {
    command = runtimeCommand(name, process.argv[1])
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
  const [cmd, args] = command
  console.log(`(${name} ${PINNED[name] ?? process.versions.node}: ${cmd})`)
  const rest = process.argv.slice(2).filter((_, i) => i !== at - 2 && i !== at - 1)
  const child = spawn(cmd, [...args, ...rest], { stdio: 'inherit' })
  // Ctrl-C reaches the whole process group from a terminal; a SIGINT sent to this process alone is passed on.
  process.on('SIGINT', () => child.kill('SIGINT'))
  child.on('exit', (code, signal) => { process.exitCode = code ?? (signal === null ? 1 : 128) })
} else {
  await demo()
}

async function demo () {
  const { default: Fastify } = await import('fastify')
  const { default: processing } = await import('../dist/index.js')

  const app = Fastify()
  await app.register(processing, { threshold: 1000, interval: 1000 })

  // Four steps of 1.6 s. The plugin sends a 102 once the request has waited 1 s, then every second; each
  // finished step also reports its progress on a 102 of its own, which restarts that 1 s interval.
  app.get('/report', { config: { processing: true } }, async (_request, reply) => {
    for (let step = 1; step <= 4; step++) {
      await sleep(1600)
      if (step < 4) reply.processing({ progress: `${step}/4` })
    }
    return { rows: 1234, interims: reply.processingSent }
  })

  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  console.log(`GET http://127.0.0.1:${port}/report  (threshold 1000 ms, interval 1000 ms)\n`)

  const started = performance.now()
  const at = () => `+${((performance.now() - started) / 1000).toFixed(2)}s`
  const show = (headers) => Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`).join('')

  await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/report' }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { body += chunk })
      res.on('end', () => {
        console.log(`${at()} ${res.statusCode} ${res.statusMessage}  ${body}`)
        resolve()
      })
    })
    req.on('information', (info) => console.log(`${at()} ${info.statusCode} ${info.statusMessage}${show(info.headers)}`))
    req.on('error', reject)
  })

  if (process.argv.includes('--serve')) {
    console.log(`\nStill serving. See the same with curl (102s show as "< HTTP/1.1 102 Processing"):\n  curl -v http://127.0.0.1:${port}/report\nCtrl-C to stop.`)
    process.once('SIGINT', () => app.close())
  } else {
    await app.close()
    console.log('\nServer closed. To watch it with curl, run: npm run demo -- --serve')
  }
}
