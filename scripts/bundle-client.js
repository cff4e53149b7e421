// Bundles the built command (dist/bin: fastify-processing.js and the files it imports) into one file with
// no dependency, dist/bin/client.mjs, which the probe endpoint serves (`?client`) to a client machine where
// the package is not installed: `node client.mjs probe <url> --token …`. The command imports only
// node: built-ins and its own files, so one pass that inlines the own files in dependency order is a
// complete bundler for it; a bare import fails the build here rather than on a user's machine.
import { readFileSync, writeFileSync } from 'node:fs'

const dir = new URL('../dist/bin/', import.meta.url)
const builtins = new Set()
const seen = new Set()
const parts = []

function inline (name) {
  if (seen.has(name)) return
  seen.add(name)
  const lines = readFileSync(new URL(name, dir), 'utf8').split('\n')
  const body = []
  for (const line of lines) {
    const from = /^import .* from '([^']+)';?$/.exec(line)
    if (from !== null && from[1].startsWith('./')) {
      inline(from[1].slice(2))
    } else if (from !== null && from[1].startsWith('node:')) {
      builtins.add(line.replace(/;$/, ''))
    } else if (from !== null || /^import /.test(line)) {
      throw new Error(`${name}: the client bundle takes node: built-ins and its own files only: ${line}`)
    } else if (!line.startsWith('#!') && !line.startsWith('//# sourceMappingURL')) {
      body.push(line.replace(/^export (?=(async )?(function|const|let|class) )/, ''))
    }
  }
  if (body.some((line) => /^export /.test(line))) throw new Error(`${name}: an export the bundler does not know`)
  parts.push(`// ${name}`, ...body)
}

inline('fastify-processing.js')
writeFileSync(new URL('client.mjs', dir), ['#!/usr/bin/env node', '// fastify-processing probe, as one file (built from dist/bin by scripts/bundle-client.js)', ...builtins, ...parts, ''].join('\n'))
