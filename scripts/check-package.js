// Checks the package as users get it: a fresh clone of HEAD packs and installs from git with its code
// built; the packed tarball's contents, publint, attw, and a scratch project that installs the tarball
// and uses it from ESM, CommonJS, and TypeScript (nodenext and bundler). Run by `npm test` after the build.
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
let failures = 0
function check (ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${what}`)
  if (!ok) failures++
}

// Every npm call shares the user's cache and prefers it: the checks run on every `npm test`.
const npmArgs = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
const runAsync = (cmd, args, cwd) => new Promise((resolve, reject) => {
  execFile(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
    if (err) reject(Object.assign(err, { stdout, stderr }))
    else resolve(stdout)
  })
})

/**
 * A fresh clone of HEAD has no dist/ (it is git-ignored): what `npm pack` or `npm publish` in a clean
 * checkout and `npm install git+…` see. Both must build the code first. Runs alongside the other checks:
 * the git install runs npm install (with devDependencies) in npm's own copy of the clone.
 */
async function freshClone (work) {
  const clone = join(work, 'clone')
  const sha = run('git', ['rev-parse', 'HEAD']).trim()
  run('git', ['clone', '--quiet', '--no-checkout', root, clone])
  run('git', ['checkout', '--quiet', '--detach', sha], clone)
  // The packing half needs the build tools, and the clone gets ours rather than a second install.
  symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir')
  const packOut = await runAsync('npm', ['pack', '--dry-run', '--json', ...npmArgs], clone)
  const [dry] = JSON.parse(packOut.slice(packOut.indexOf('[')))
  const packed = dry.files.map((f) => f.path)
  const built = packed.includes('dist/index.js') && packed.includes('dist/index.d.ts')
  check(built, `npm pack in a fresh clone builds dist/ first${built ? '' : ` (packed only: ${packed.sort().join(', ')})`}`)

  const app = join(work, 'git-app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'git-consumer', private: true }))
  await runAsync('npm', ['install', ...npmArgs, `git+file://${clone}#${sha}`, `fastify@${fastifyVersion}`], app)
  const imported = (await runAsync(process.execPath, ['--input-type=module', '-e', "const { default: plugin } = await import('fastify-processing'); console.log(typeof plugin)"], app)
    .catch((err) => err.stderr.split('\n').find((line) => /Error/.test(line)))).trim()
  check(imported === 'function', `npm install git+file://… then import('fastify-processing') gives the plugin${imported === 'function' ? '' : `: ${imported}`}`)
}

const versionOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
const fastifyVersion = versionOf(join(root, 'node_modules/fastify'))

/**
 * The oldest TypeScript the package supports and the newest major, in a scratch folder of their own
 * (the project itself builds with one pinned version). Fastify 5's own types need TypeScript 5.0 (const
 * type parameters), and 5.4 (NoInfer) unless skipLibCheck is on: so is ours below 5.4.
 */
async function installTypeScripts (work) {
  const dir = join(work, 'typescript')
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'typescripts', private: true }))
  const wanted = { oldest: '~5.0.0', newest: '^7.0.0' }
  await runAsync('npm', ['install', ...npmArgs, ...Object.entries(wanted).map(([alias, range]) => `${alias}@npm:typescript@${range}`)], dir)
  return Object.keys(wanted).map((alias) => {
    const version = versionOf(join(dir, 'node_modules', alias))
    return { version, tsc: join(dir, 'node_modules', alias, 'bin/tsc'), skipLibCheck: /^5\.[0-3]\./.test(version) }
  })
}
const projectTypeScript = { version: versionOf(join(root, 'node_modules/typescript')), tsc: join(root, 'node_modules/typescript/bin/tsc'), skipLibCheck: false }
const work = mkdtempSync(join(tmpdir(), 'fastify-processing-package-'))
try {
  const fromGit = freshClone(work)
  const typescripts = installTypeScripts(work)
  // Settled now so a failure is reported after the checks below, not as an unhandled rejection.
  fromGit.catch(() => {})
  typescripts.catch(() => {})
  // `npm test` has just built dist/: packing here need not build it again (the fresh clone above does).
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work]))
  const files = packed.files.map((f) => f.path).sort()
  const unexpected = files.filter((f) => !/^(dist\/.+\.(js|cjs|d\.ts|d\.cts)|dist\/bin\/client\.mjs|dist\/cjs\/package\.json|docs\/[\w-]+\.md|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/.test(f))
  check(unexpected.length === 0, `the tarball ships only dist/, docs/*.md, README.md, CHANGELOG.md, LICENSE and package.json${unexpected.length ? ` (also: ${unexpected.join(', ')})` : ''}`)
  const entries = ['dist/index.js', 'dist/index.d.ts', 'dist/index.cjs', 'dist/index.d.cts', 'dist/cjs/index.d.ts', 'dist/cjs/package.json', 'dist/bin/fastify-processing.js', 'dist/bin/client.mjs', 'docs/peers.md', 'LICENSE', 'CHANGELOG.md']
  check(entries.every((f) => files.includes(f)), `the tarball has ${entries.join(', ')}`)
  // The command is run, never imported: declarations for bin/ would only weigh on every install.
  const binTypes = files.filter((f) => /^dist\/(cjs\/)?bin\/.*\.d\.c?ts$/.test(f))
  check(binTypes.length === 0, `the tarball ships no declarations for bin/${binTypes.length ? ` (found: ${binTypes.join(', ')})` : ''}`)

  run(bin('publint'), ['--strict'])
  check(true, 'publint --strict')
  execFileSync(bin('attw'), ['--pack', '.'], { cwd: root, stdio: 'pipe', env: { ...process.env, npm_config_ignore_scripts: 'true' } })
  check(true, 'attw --pack')

  const tarball = join(work, packed.filename)
  const app = join(work, 'app')
  run('mkdir', ['-p', app])
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
  run('npm', ['install', ...npmArgs, tarball, `fastify@${fastifyVersion}`], app)

  const use = `
    const app = Fastify()
    await app.register(plugin, { threshold: 1 })
    app.get('/', { config: { processing: true } }, async (req, reply) => ({ manual: typeof reply.processing, sent: reply.processingSent }))
    const res = await app.inject('/')
    console.log(res.body)
    await app.close()`
  writeFileSync(join(app, 'esm.mjs'), `import Fastify from 'fastify'
import plugin, { fastifyProcessing } from 'fastify-processing'
if (plugin !== fastifyProcessing) throw new Error('default and named exports differ')
${use}`)
  check(run('node', ['esm.mjs'], app).trim() === '{"manual":"function","sent":0}', 'ESM import works')

  writeFileSync(join(app, 'cjs.cjs'), `const Fastify = require('fastify')
const plugin = require('fastify-processing')
if (typeof plugin !== 'function' || plugin.default !== plugin || plugin.fastifyProcessing !== plugin || !Array.isArray(plugin.knownPeers)) {
  throw new Error('require() did not return the plugin with .default, .fastifyProcessing and .knownPeers')
}
;(async () => {${use}
})()`)
  check(run('node', ['cjs.cjs'], app).trim() === '{"manual":"function","sent":0}', 'CommonJS require() returns the plugin itself')

  // The command as `npx fastify-processing` runs it: npm's link in node_modules/.bin, through its shebang.
  let help = ''
  try {
    help = run(join(app, 'node_modules/.bin/fastify-processing'), ['--help'], app)
  } catch (err) {
    help = String(err.stderr ?? err.message)
  }
  check(/^Usage: fastify-processing probe <url>/.test(help), `the installed bin runs (fastify-processing --help)${/^Usage/.test(help) ? '' : `: ${help.trim().split('\n')[0]}`}`)
  let version = ''
  try {
    version = run(join(app, 'node_modules/.bin/fastify-processing'), ['--version'], app).trim()
  } catch (err) {
    version = String(err.stderr ?? err.message).trim().split('\n')[0]
  }
  check(version === versionOf(root), `the installed bin says its version (fastify-processing --version: ${version})`)

  writeFileSync(join(app, 'consumer.ts'), `import Fastify from 'fastify'
import plugin, { fastifyProcessing, knownPeers, type FastifyProcessingOptions, type PeerRule, type ProcessingRouteOptions } from 'fastify-processing'
const options: FastifyProcessingOptions = { threshold: 500, limit: 5, peers: [...knownPeers] }
const route: ProcessingRouteOptions = { interval: 2000 }
const rules: readonly PeerRule[] = knownPeers
const app = Fastify()
await app.register(plugin, options)
await app.register(fastifyProcessing)
app.get('/', { config: { processing: route } }, async (_req, reply) => reply.processing({ progress: '1/2', step: [1, 2] }) && reply.processingSent + rules.length)
// @ts-expect-error a string threshold is refused
app.get('/bad', { config: { processing: { threshold: '1' } } }, async () => 'no')
`)
  // A CommonJS TypeScript project: with module node16, TypeScript refuses to require an ES module
  // (TS1479), so the types must describe the CommonJS entry.
  writeFileSync(join(app, 'consumer.cts'), `import Fastify = require('fastify')
import plugin = require('fastify-processing')
import type { FastifyProcessingOptions, PeerRule } from 'fastify-processing'
const options: FastifyProcessingOptions = { threshold: 500 }
const rules: readonly PeerRule[] = plugin.knownPeers
const app = Fastify()
app.register(plugin, options)
app.register(plugin.default)
app.register(plugin.fastifyProcessing, { peers: [...rules] })
app.get('/', { config: { processing: true } }, async (_req, reply) => reply.processing({ step: 1 }) && reply.processingSent)
// @ts-expect-error a string threshold is refused
app.get('/bad', { config: { processing: { threshold: '1' } } }, async () => 'no')
`)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  const tsc = async (compiler, file, settings) => {
    const config = join(app, `tsconfig.${compiler.version}.${settings.moduleResolution}.json`)
    writeFileSync(config, JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: compiler.skipLibCheck, types: ['node'], typeRoots: [join(root, 'node_modules/@types')], ...settings },
      files: [file]
    }))
    const what = `TypeScript ${compiler.version}${compiler.skipLibCheck ? ' (skipLibCheck)' : ''}, ${file}, module ${settings.module}`
    try {
      await runAsync(process.execPath, [compiler.tsc, '-p', config], app)
      check(true, what)
    } catch (err) {
      check(false, `${what}: ${err.stdout.trim().split('\n').slice(0, 3).join(' | ')}`)
    }
  }
  for (const compiler of [...await typescripts, projectTypeScript]) {
    await tsc(compiler, 'consumer.ts', { module: 'nodenext', moduleResolution: 'nodenext' })
    await tsc(compiler, 'consumer.cts', { module: 'node16', moduleResolution: 'node16' })
  }
  await tsc(projectTypeScript, 'consumer.ts', { module: 'esnext', moduleResolution: 'bundler' })
  await fromGit
} catch (err) {
  console.error(err.stdout ?? '', err.stderr ?? '', err.message)
  check(false, 'package checks ran to the end')
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`${failures === 0 ? 'package checks passed' : `${failures} package check(s) failed`}`)
process.exit(failures === 0 ? 0 : 1)
