// Checks the package as users get it: the packed tarball's contents, publint, attw, and a scratch
// project that installs the tarball and uses it from ESM, CommonJS, and TypeScript (nodenext and
// bundler). Run by `npm test` after the build.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

const work = mkdtempSync(join(tmpdir(), 'fastify-processing-package-'))
try {
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
  const fastifyVersion = JSON.parse(readFileSync(join(root, 'node_modules/fastify/package.json'), 'utf8')).version
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `fastify@${fastifyVersion}`], app)

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
} catch (err) {
  console.error(err.stdout ?? '', err.stderr ?? '', err.message)
  check(false, 'package checks ran to the end')
} finally {
  rmSync(work, { recursive: true, force: true })
}
console.log(`${failures === 0 ? 'package checks passed' : `${failures} package check(s) failed`}`)
process.exit(failures === 0 ? 0 : 1)
