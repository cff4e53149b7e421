#!/usr/bin/env node
// npm run test:unit [-- <test files or tap flags>]: tap, then the coverage gate on the report it wrote.
//   npm run test:unit                                    every test file; coverage held to 100 %
//   npm run test:unit -- test/http1.test.ts test/fuzz    a subset: the tests must pass, coverage is reported
//                                                        but not gated, and the gate says so
// A subset cannot reach every line of lib/, so gating it would fail runs whose tests all pass, with no
// word on why (`npx tap <file>` alone does exactly that: tap's own 100 % check, exit 1, no message).
// A peer that is not installed (haproxy, nginx, …) skips its interop tests, and the last line says so,
// with the packages to install; under CI (CI=true) a missing peer fails instead (test/interop/missing.ts).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const subset = args.length > 0
const require = createRequire(import.meta.url)
// Each test file runs in a process of its own: the skipped peers meet in one file.
const skipped = join(root, '.tap', 'peers-skipped.jsonl')
rmSync(skipped, { force: true })
const tap = spawnSync(process.execPath, [
  join(dirname(require.resolve('tap/package.json')), require('tap/package.json').bin.tap),
  '--allow-incomplete-coverage', '--coverage-report=json', '--coverage-report=text',
  // Tests that load no source file (the docs checks) make a subset with no coverage at all, not a failure.
  ...(subset ? ['--allow-empty-coverage'] : []),
  ...args
], { cwd: root, stdio: 'inherit', env: { ...process.env, FASTIFY_PROCESSING_SKIPPED: skipped } })
process.on('exit', sayMissingPeers)
if (tap.status !== 0) process.exit(tap.status ?? 1)

const gate = spawnSync(process.execPath, [
  fileURLToPath(new URL('./coverage-gate.js', import.meta.url)),
  ...(subset ? ['--subset', args.join(' ')] : [])
], { cwd: root, stdio: 'inherit' })
process.exit(gate.status ?? 1)

/** The closing line: how many tests a missing peer skipped, and what installs them. */
function sayMissingPeers () {
  if (!existsSync(skipped)) return
  const skips = readFileSync(skipped, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  const packages = [...new Set(skips.flatMap((s) => s.pkg.split(' ')))].sort()
  console.log(`peers: ${skips.length} test(s) skipped, ${packages.length} Debian package(s) not installed (${packages.join(', ')}): ` +
    `sudo apt-get install -y ${packages.join(' ')} (.ci/run installs every peer); under CI=true a missing peer fails`)
}
