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
  check(packed.includes('dist/index.js') && packed.includes('dist/index.d.ts'),
    `npm pack in a fresh clone builds dist/ first (packed: ${packed.sort().join(', ')})`)

  const app = join(work, 'git-app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'git-consumer', private: true }))
  await runAsync('npm', ['install', ...npmArgs, `git+file://${clone}#${sha}`, `fastify@${fastifyVersion}`], app)
  const imported = (await runAsync('node', ['--input-type=module', '-e', "const { default: plugin } = await import('fastify-processing'); console.log(typeof plugin)"], app)
    .catch((err) => err.stderr.split('\n').find((line) => /Error/.test(line)))).trim()
  check(imported === 'function', `npm install git+file://… then import('fastify-processing') gives the plugin${imported === 'function' ? '' : `: ${imported}`}`)
}

const fastifyVersion = JSON.parse(readFileSync(join(root, 'node_modules/fastify/package.json'), 'utf8')).version
const work = mkdtempSync(join(tmpdir(), 'fastify-processing-package-'))
try {
  const fromGit = freshClone(work)
  // Settled now so a failure is reported after the checks below, not as an unhandled rejection.
  fromGit.catch(() => {})
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work]))
  const files = packed.files.map((f) => f.path).sort()
  const unexpected = files.filter((f) => !/^(dist\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/.test(f))
  check(unexpected.length === 0, `the tarball ships only dist/, README.md, LICENSE and package.json${unexpected.length ? ` (also: ${unexpected.join(', ')})` : ''}`)
  check(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('LICENSE'), 'the tarball has dist/index.js, dist/index.d.ts and LICENSE')

  run(bin('publint'), ['--strict'])
  check(true, 'publint --strict')
  // attw models TypeScript's node16 resolution, in which require() cannot load an ES module. Node
  // >= 20.19 (our engines floor) can, and the CommonJS check below proves it on the tarball.
  run(bin('attw'), ['--pack', '.', '--ignore-rules', 'cjs-resolves-to-esm'])
  check(true, 'attw --pack (cjs-resolves-to-esm ignored: require(esm) is native from Node 20.19)')

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
if (typeof plugin !== 'function' || plugin.default !== plugin || plugin.fastifyProcessing !== plugin) {
  throw new Error('require() did not return the plugin with .default and .fastifyProcessing')
}
;(async () => {${use}
})()`)
  check(run('node', ['cjs.cjs'], app).trim() === '{"manual":"function","sent":0}', 'CommonJS require() returns the plugin itself')

  writeFileSync(join(app, 'consumer.ts'), `import Fastify from 'fastify'
import plugin, { fastifyProcessing, type FastifyProcessingOptions, type ProcessingRouteOptions } from 'fastify-processing'
const options: FastifyProcessingOptions = { threshold: 500, limit: 5 }
const route: ProcessingRouteOptions = { interval: 2000 }
const app = Fastify()
await app.register(plugin, options)
await app.register(fastifyProcessing)
app.get('/', { config: { processing: route } }, async (_req, reply) => reply.processing({ progress: '1/2' }) && reply.processingSent)
// @ts-expect-error a string threshold is refused
app.get('/bad', { config: { processing: { threshold: '1' } } }, async () => 'no')
`)
  const tsc = (settings) => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')], ...settings },
      files: ['consumer.ts']
    }))
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app)
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  tsc({ module: 'nodenext', moduleResolution: 'nodenext' })
  check(true, 'TypeScript consumer, moduleResolution nodenext')
  tsc({ module: 'esnext', moduleResolution: 'bundler' })
  check(true, 'TypeScript consumer, moduleResolution bundler')
  await fromGit
} catch (err) {
  console.error(err.stdout ?? '', err.stderr ?? '', err.message)
  check(false, 'package checks ran to the end')
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`${failures === 0 ? 'package checks passed' : `${failures} package check(s) failed`}`)
process.exit(failures === 0 ? 0 : 1)
