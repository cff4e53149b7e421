#!/usr/bin/env node
// npm run test:floors: the packed tarball, installed into a scratch app, loaded every way a user loads it
// (ESM import and CommonJS require(), plain JavaScript and TypeScript compiled with module nodenext and
// module commonjs), on the lowest release of each Node line that package.json's `engines` admits. npm
// installs the package on any version engines admits, so each of those must load it: require() of an ES
// module is unflagged only from 20.19 and 22.12, and 22.0–22.11 crash with ERR_REQUIRE_ESM.
//   node scripts/test-floors.js                  the floors engines admits, lines 20 to 26
//   FLOORS="22.11.0 24.0.0" node …               these exact versions instead (to show one failing)
//   NODE_LINES_CACHE=/path                       where the binaries are kept (default: .cache/node-lines)
// Each binary is the npm registry's `node@x.y.z` package, installed once into the cache folder. Needs
// dist/ (npm run build); run by .ci/run after the Node lines.
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const cache = resolve(process.env.NODE_LINES_CACHE ?? join(root, '.cache/node-lines'))
const npmArgs = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version

/**
 * The lowest x.y.z of `line` that an engines range admits. Only what engines uses is understood:
 * `>=x.y.z`, `^x.y.z` (x.y and x stand for x.y.0 and x.0.0), comparator sets joined by `||`.
 */
export function floorOf (range, line) {
  const parse = (v) => { const [a = 0, b = 0, c = 0] = v.split('.').map(Number); return [a, b, c] }
  const less = (a, b) => a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2]
  let best = null
  for (const set of range.split('||')) {
    let low = [line, 0, 0]
    let high = [line + 1, 0, 0]
    for (const comparator of set.trim().split(/\s+/)) {
      const [, op, version] = /^(>=|\^)(\d+(?:\.\d+){0,2})$/.exec(comparator) ?? []
      if (op === undefined) throw new Error(`engines ${JSON.stringify(range)}: ${comparator} is not understood here`)
      const v = parse(version)
      if (less(low, v)) low = v
      if (op === '^' && less([v[0] + 1, 0, 0], high)) high = [v[0] + 1, 0, 0]
    }
    if (less(low, high) && (best === null || less(low, best))) best = low
  }
  return best === null ? null : best.join('.')
}

const floors = process.env.FLOORS?.trim().split(/\s+/) ??
  [20, 21, 22, 23, 24, 25, 26].map((line) => floorOf(pkg.engines.node, line)).filter((v) => v !== null)

const run = (cmd, args, options = {}) => new Promise((resolve) => {
  execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...options }, (err, stdout, stderr) => resolve({ err, stdout, stderr }))
})

async function nodeBinary (version) {
  const bin = join(cache, version, 'node_modules/node/bin/node')
  if (!existsSync(bin)) {
    const { err, stderr } = await run('npm', ['install', '--prefix', join(cache, version), '--no-save', '--no-package-lock', ...npmArgs, `node@${version}`])
    if (err) throw new Error(`npm install node@${version}: ${stderr.trim()}`)
  }
  return bin
}

// What each consumer does: register the plugin, serve one route through it on a real socket, print what
// the client got. Not inject(): light-my-request's cookie dependency is itself an ES module that Node
// 22.0–22.11 cannot require(), which would hide whether this package loads.
const body = `
  const app = Fastify()
  await app.register(plugin, { threshold: 1 })
  app.get('/', { config: { processing: true } }, async (_req, reply) => ({ manual: typeof reply.processing, sent: reply.processingSent }))
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(await (await fetch(url)).text())
  await app.close()`
const expected = '{"manual":"function","sent":0}'

/** The scratch app: the tarball and the project's Fastify installed, four consumers, two of them compiled. */
function scratchApp (work) {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, encoding: 'utf8' }))
  const app = join(work, 'app')
  mkdirSync(join(app, 'cts'), { recursive: true })
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'floors', private: true, type: 'module' }))
  execFileSync('npm', ['install', ...npmArgs, join(work, packed.filename), `fastify@${versionOf(join(root, 'node_modules/fastify'))}`], { cwd: app, stdio: 'pipe' })
  writeFileSync(join(app, 'esm.mjs'), `import Fastify from 'fastify'\nimport plugin from 'fastify-processing'\n${body}\n`)
  writeFileSync(join(app, 'cjs.cjs'), `const Fastify = require('fastify')\nconst plugin = require('fastify-processing')\n;(async () => {${body}\n})()\n`)
  writeFileSync(join(app, 'nodenext.ts'), `import Fastify from 'fastify'\nimport plugin from 'fastify-processing'\n${body}\n`)
  // module commonjs: a CommonJS package of its own, so the emitted require() runs as CommonJS.
  writeFileSync(join(app, 'cts/package.json'), JSON.stringify({ type: 'commonjs' }))
  writeFileSync(join(app, 'cts/commonjs.ts'), `import Fastify from 'fastify'\nimport plugin from 'fastify-processing'\nvoid (async () => {${body}\n})()\n`)
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  const common = ['--strict', '--target', 'ES2022', '--skipLibCheck', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types')]
  execFileSync(process.execPath, [tsc, ...common, '--module', 'nodenext', 'nodenext.ts'], { cwd: app, stdio: 'pipe' })
  execFileSync(process.execPath, [tsc, ...common, '--module', 'commonjs', '--esModuleInterop', 'cts/commonjs.ts'], { cwd: app, stdio: 'pipe' })
  return { app, consumers: { 'ESM import': 'esm.mjs', 'CommonJS require()': 'cjs.cjs', 'TypeScript module nodenext': 'nodenext.js', 'TypeScript module commonjs': 'cts/commonjs.js' } }
}

if (import.meta.main ?? process.argv[1] === import.meta.filename) {
  const work = mkdtempSync(join(tmpdir(), 'fastify-processing-floors-'))
  let failures = 0
  try {
    console.log(`engines.node ${pkg.engines.node}: loading the packed tarball on Node ${floors.join(', ')}`)
    const binaries = Promise.all(floors.map(nodeBinary))
    binaries.catch(() => {})
    const { app, consumers } = scratchApp(work)
    for (const [i, bin] of (await binaries).entries()) {
      for (const [what, file] of Object.entries(consumers)) {
        const { err, stdout, stderr } = await run(bin, [file], { cwd: app })
        // A warning on a user's first require() (ExperimentalWarning on some lines) is a failure too.
        const ok = err === null && stdout.trim() === expected && stderr.trim() === ''
        if (!ok) failures++
        const why = (stderr.split('\n').find((line) => /Error|Warning/.test(line)) ?? stdout.trim()).trim()
        console.log(`${ok ? 'ok' : 'not ok'} - Node ${floors[i]}: ${what}${ok ? '' : `: ${why}`}`)
      }
    }
  } catch (err) {
    console.error(err.stderr?.toString() ?? '', err.message)
    failures++
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  console.log(failures === 0 ? `the tarball loads every way on Node ${floors.join(', ')}` : `${failures} floor check(s) failed`)
  process.exit(failures === 0 ? 0 : 1)
}
