// Proves: on a machine without a peer, the test command passes with each missing peer a visible skip and
// one closing line that counts them and says what to install; under CI=true the same run fails.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import t from 'tap'

const root = new URL('..', import.meta.url).pathname

/**
 * A copy of the project in which scripts/test-unit.js runs as in a clean clone: its own .tap/ (tap clears
 * .tap/coverage at the start of a run, which would wipe this run's), the sources and tests copied, the
 * installed modules and the built dist/ linked.
 */
function project (): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-processing-skips-'))
  for (const entry of ['index.ts', 'lib', 'test', 'scripts', 'package.json', '.taprc', 'tsconfig.json']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true })
  }
  for (const entry of ['node_modules', 'dist']) symlinkSync(join(root, entry), join(dir, entry), 'dir')
  return dir
}

/** A PATH with every command of this one but `hidden`: a machine where that peer is not installed. */
function pathWithout (hidden: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-processing-path-'))
  mkdirSync(join(dir, 'bin'))
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[] = []
    try { names = readdirSync(folder) } catch { continue }
    for (const name of names) {
      if (name === hidden) continue
      try { symlinkSync(join(folder, name), join(dir, 'bin', name)) } catch { /* an earlier folder had it */ }
    }
  }
  return join(dir, 'bin')
}

function testUnit (cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number, out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/test-unit.js', 'test/interop/haproxy.test.ts'], { cwd, env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr })
    })
  })
}

t.test('a peer missing from PATH is a skip naming its package, and one closing line; under CI it fails', async (t) => {
  const dir = project()
  const path = pathWithout('haproxy')
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); rmSync(join(path, '..'), { recursive: true, force: true }) })
  const { CI: _ci, TAP: _tap, TAP_CHILD_ID: _id, NODE_V8_COVERAGE: _cov, NODE_OPTIONS: _opts, ...clean } = process.env
  const env = { ...clean, PATH: path }

  const local = await testUnit(dir, env)
  t.equal(local.code, 0, 'passes without haproxy')
  t.match(local.out, /# SKIP haproxy is not installed: apt-get install -y haproxy/, 'each skipped test names the package')
  const closing = local.out.split('\n').filter((line) => line.startsWith('peers: '))
  t.same(closing, ['peers: 3 test(s) skipped, 1 Debian package(s) not installed (haproxy): sudo apt-get install -y haproxy (.ci/run installs every peer); under CI=true a missing peer fails'],
    'one closing line, the last one')
  t.equal(local.out.trim().split('\n').at(-1), closing[0])

  const ci = await testUnit(dir, { ...env, CI: 'true' })
  t.not(ci.code, 0, 'fails under CI=true')
  t.match(ci.out, /haproxy is not installed: apt-get install -y haproxy \(under CI a missing peer fails/)
  t.notMatch(ci.out, /^peers: /m, 'nothing was skipped')
})
