// Proves: `npm run demo` prints the 102 timeline; `-- --serve` stays up for a client until Ctrl-C; both the
// same under `-- --runtime bun` and `deno`.
// `npm run demo` (on the built dist/, as npm test runs it): whatever its last lines tell the user to
// curl must be up when they do.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { runtimeBinary } from '../scripts/runtimes.js'
import { needsRuntime } from './runtimes/needs.js'

const demo = fileURLToPath(new URL('../demo/demo.js', import.meta.url))

interface Demo {
  output: () => string
  running: () => boolean
  exited: Promise<[number | null, string | null]>
  kill: (signal: NodeJS.Signals) => void
}

function start (...args: string[]): Demo {
  const child = spawn(process.execPath, [demo, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { output: () => output, running: () => child.exitCode === null, exited, kill: (signal) => child.kill(signal) }
}

// Every run started at once: each takes the demo's 6.4 s. Under Bun and Deno the same file runs, server and
// client, in the pinned runtime (`npm run runtimes`).
const runs = [['node', []], ['bun', ['--runtime', 'bun']], ['deno', ['--runtime', 'deno']]] as const
const started = runs.map(([runtime, flags]) =>
  runtime === 'node' || runtimeBinary(runtime) !== null ? { plain: start(...flags), served: start(...flags, '--serve') } : null)
runs.forEach(([runtime], i) => {
  t.test(runtime === 'node' ? 'Node' : `--runtime ${runtime}`, async (t) => {
    const run = started[i]
    if (!needsRuntime(t, runtime) || run == null) return
    await timeline(t, run.plain)
    await serve(t, run.served)
  })
})

async function timeline (t: Test, run: Demo): Promise<void> {
  await t.test('npm run demo: the timeline, then no URL of a server it has closed', async (t) => {
    const [code] = await run.exited
    t.equal(code, 0)
    const lines = run.output().trim().split('\n')
    t.match(run.output(), /102 Processing {2}progress: 1\/4/, 'the timeline shows the progress reports')
    t.equal(run.output().match(/102 Processing/g)?.length, 7, 'seven 102s: four from the schedule, three progress reports')
    t.match(run.output(), /200 OK {2}\{"rows":1234,"interims":7\}/, 'then the 200')
    t.notMatch(lines.at(-1), /http:\/\//, 'the last line points at no closed server')
    t.match(lines.at(-1), /npm run demo -- --serve/, 'it says how to keep one up')
  })
}

async function serve (t: Test, run: Demo): Promise<void> {
  await t.test('npm run demo -- --serve: the URL it prints answers with 102s, until Ctrl-C', async (t) => {
    let url: string | undefined
    while (url === undefined && run.running()) {
      url = /curl -v (http:\/\/127\.0\.0\.1:\d+\/report)/.exec(run.output())?.[1]
      if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    if (url === undefined) return t.fail(`the demo exited without a URL to curl: ${run.output().trim().split('\n').at(-1)}`)
    // Node's client, which any machine that runs the demo has (the README's curl shows the same heads).
    const statuses = await new Promise<number[]>((resolve, reject) => {
      const seen: number[] = []
      http.get(url as string, (res) => {
        seen.push(res.statusCode ?? 0)
        res.resume().on('end', () => resolve(seen))
      }).on('information', (info) => seen.push(info.statusCode)).on('error', reject)
    })
    t.ok(statuses.filter((s) => s === 102).length >= 2, `the client saw 102s (${statuses.join(', ')})`)
    t.equal(statuses.at(-1), 200, 'then the 200')
    run.kill('SIGINT')
    const [code] = await run.exited
    t.equal(code, 0, 'Ctrl-C closes the server and the demo exits cleanly')
  })
}
