#!/usr/bin/env node
// npm run runtimes: installs the pinned Bun and Deno that test/runtimes/ and `npm run demo -- --runtime <name>`
// run, from the npm registry (the `bun` package, whose binary ships in @oven/bun-<platform>; the `deno`
// package, in @deno/<platform>), into a cache folder like the Node lines: never globally.
//   RUNTIMES_CACHE=/path   where they are kept (default: .cache/runtimes), one folder per <name>-<version>
// Bump a version here and in docs/runtimes.md together.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PINNED = { bun: '1.4.5', deno: '2.9.6' }

const root = fileURLToPath(new URL('..', import.meta.url))
const cache = () => process.env.RUNTIMES_CACHE ?? join(root, '.cache', 'runtimes')

/**
 * Where the binary is: in the platform package, unless the package's postinstall moved it into its own bin
 * (bun does; a placeholder stands there when npm ran no install script, so the platform package comes first).
 */
function candidates (name, dir) {
  const modules = join(dir, 'node_modules')
  return name === 'bun'
    ? [join(modules, '@oven', `bun-${process.platform}-${process.arch}`, 'bin', 'bun'), join(modules, 'bun', 'bin', 'bun.exe')]
    : [join(modules, '@deno', `${process.platform}-${process.arch}-glibc`, 'deno'), join(modules, 'deno', 'deno')]
}

/** The pinned runtime's binary, or null when it is not installed. */
export function runtimeBinary (name) {
  return candidates(name, join(cache(), `${name}-${PINNED[name]}`)).find((file) => existsSync(file)) ?? null
}

/** The command line that runs `file` under `name` ('node' is this process's own Node). */
export function runtimeCommand (name, file) {
  if (name === 'node') return [process.execPath, [file]]
  const binary = runtimeBinary(name)
  if (binary === null) throw new Error(`${name} ${PINNED[name]} is not installed: run \`npm run runtimes\``)
  // Deno: every permission (the app listens, reads its certificate and node_modules), and no deno.lock
  // written into the checkout.
  return name === 'deno' ? [binary, ['run', '--allow-all', '--no-lock', '--quiet', file]] : [binary, [file]]
}

/** Installs what is missing; returns each runtime's binary. */
export function install () {
  const out = {}
  for (const [name, version] of Object.entries(PINNED)) {
    if (runtimeBinary(name) === null) {
      execFileSync('npm', ['install', '--prefix', join(cache(), `${name}-${version}`), '--no-save', '--no-package-lock',
        '--no-audit', '--no-fund', '--loglevel=error', `${name}@${version}`], { stdio: 'inherit' })
    }
    const binary = runtimeBinary(name)
    if (binary === null) throw new Error(`${name}@${version} installed, but no binary found at ${candidates(name, join(cache(), `${name}-${version}`)).join(' or ')}`)
    out[name] = binary
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, binary] of Object.entries(install())) {
    console.log(`${execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0].replace(/^(?!deno)/, `${name} `)}: ${binary}`)
  }
}
