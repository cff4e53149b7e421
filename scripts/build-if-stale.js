#!/usr/bin/env node
// Runs `npm run build` only when dist/ is missing or older than a source it is built from, so that
// `npm run demo` starts at once on a built checkout and still never runs stale code.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const built = join(root, 'dist', 'index.js')

/** Every file under a path (a file or a folder), or none if it does not exist. */
function files (path) {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path).flatMap((name) => files(join(path, name)))
}

// What `npm run build` reads: the TypeScript sources, the CommonJS entry it copies, its configs.
const inputs = ['index.ts', 'lib', 'bin', 'cjs', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.cjs-types.json']
  .flatMap((path) => files(join(root, path)))

let reason = null
if (!existsSync(built)) reason = 'dist/ is missing'
else {
  const at = statSync(built).mtimeMs
  const newer = inputs.find((file) => statSync(file).mtimeMs > at)
  if (newer !== undefined) reason = `${relative(root, newer)} is newer than dist/`
}
if (reason !== null) {
  console.error(`building first: ${reason}`)
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' })
}
