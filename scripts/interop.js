#!/usr/bin/env node
// npm run interop: measures the compatibility matrix against real peers on loopback and prints it as a
// Markdown table (the peer matrix in docs/peers.md is this output). `--json` prints the raw rows.
// Needs a build (dist/) and every peer of .ci/install-peers.sh (plus curl, python3, haproxy and nginx) on PATH.
import { existsSync } from 'node:fs'

if (!existsSync(new URL('../dist/index.js', import.meta.url))) {
  console.error('dist/index.js is missing: run `npm run build` first')
  process.exit(1)
}
const { measureMatrix, toMarkdown } = await import('./matrix.js')

const started = performance.now()
const { versions, rows } = await measureMatrix()
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ versions, rows }, null, 2))
} else {
  console.log(`Measured on loopback with **Node ${versions.node}** and Fastify ${versions.fastify}, Debian 12's packages: ` +
    'a route that answers after 700 ms, with `threshold: 100, interval: 200` (timeout rows: 1000 and 1000). ' +
    'From the Java row on (the atlas): a route that answers after 400 ms with `threshold: 50, interval: 50` and peer ' +
    'recognition off (`peers: []`), so each row shows what the peer itself does; "default options" says what ' +
    'the plugin\'s defaults do for it. Caps are found by sending exactly N and N + 1 interims.\n')
  console.log(toMarkdown(rows))
}
const missing = rows.filter((r) => r.notes === 'not installed').map((r) => r.peer)
console.error(`\n${rows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s` +
  (missing.length > 0 ? `; not installed: ${missing.join(', ')}` : ''))
