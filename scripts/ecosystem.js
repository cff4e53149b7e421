#!/usr/bin/env node
// npm run ecosystem: runs the live ecosystem checks (test/ecosystem/fastify-*.test.ts, one file per Fastify
// minor, then the other test/ecosystem/*.test.ts, one file per plugin) and prints the matrix as a Markdown table:
// plugin, installed version, what was checked, result. The table in docs/plugins.md is this output.
// `--json` prints the rows instead. The exit code is tap's: non-zero when a check failed.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('..', import.meta.url)
const require = createRequire(new URL('package.json', root))
const minorFiles = ['5.0', '5.7', '5.8', 'latest', '6'].map((m) => `test/ecosystem/fastify-${m}.test.ts`)
const files = [
  ...minorFiles,
  ...readdirSync(new URL('test/ecosystem/', root)).filter((f) => f.endsWith('.test.ts')).sort()
    .map((f) => `test/ecosystem/${f}`).filter((f) => !minorFiles.includes(f))
]

const versionOf = (pkg) => {
  try {
    return require(`${pkg}/package.json`).version
  } catch {
    return 'not installed'
  }
}

/** The packages a file checks, from its `// matrix:` line. */
function pluginsOf (file) {
  const line = /^\/\/ matrix: (.+)$/m.exec(readFileSync(new URL(file, root), 'utf8'))
  return line === null ? [] : line[1].trim().split(/\s+/)
}

function runTap () {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tap', '--disable-coverage', '--allow-incomplete-coverage', '-R', 'tap', ...files], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => { out += chunk })
    child.on('close', (code) => resolve({ code, out }))
  })
}

// TAP: a file is a top-level subtest; each nesting level indents its results by four spaces.
const RESULT = /^( *)(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*?)?(?: # time=[\d.]+m?s)?$/

function parse (out) {
  const rows = []
  let file = null
  const failures = [] // failing assertions below the current row, deepest first
  const stack = []
  for (const line of out.split('\n')) {
    const sub = /^( *)# Subtest: (.*)$/.exec(line)
    if (sub !== null) {
      const depth = sub[1].length / 4
      if (depth === 0) file = sub[2]
      stack[depth] = sub[2]
      stack.length = depth + 1
      continue
    }
    const m = RESULT.exec(line)
    if (m === null) continue
    const depth = m[1].length / 4
    const ok = m[2] === 'ok'
    const name = m[3]
    const skip = m[4] === 'SKIP'
    const minors = minorFiles.includes(file)
    // A check is a subtest of a file (of a Fastify minor, in the minors files).
    const rowDepth = minors ? 2 : 1
    if (depth > rowDepth) {
      if (!ok) failures.push(name)
      continue
    }
    // tap reports a subtest that an uncaught error ended twice: the first line says why.
    const previous = rows.at(-1)
    if (depth === rowDepth && !(previous?.file === file && previous.name === name && !ok)) {
      const result = skip ? 'skipped' : ok ? 'pass' : failures.length === 0 ? 'FAIL' : `FAIL: ${[...new Set(failures)].join('; ')}`
      failures.length = 0
      if (minors) {
        const [, version] = /^Fastify (\S+)/.exec(stack[1] ?? '') ?? []
        rows.push({ file, name, plugin: 'fastify', version: version ?? '?', checked: name, result })
      } else {
        const plugins = pluginsOf(file)
        // The version is in the check's name already; the table gives it a column of its own.
        const checked = name.replace(/^(?:@?[\w./-]+ [\d.]+(?:-[\w.]+)?(?:,? and |: |, ))+/, '').replace(/^(?:and )/, '')
        rows.push({
          file,
          name,
          plugin: plugins.join(' + ') || file,
          version: plugins.map(versionOf).join(' + '),
          checked,
          result
        })
      }
    }
  }
  // Files finish in any order when tap runs them in parallel; the table follows the file list.
  return rows.map((row, i) => ({ row, i }))
    .sort((a, b) => files.indexOf(a.row.file) - files.indexOf(b.row.file) || a.i - b.i)
    .map(({ row: { file: _file, name: _name, ...row } }) => row)
}

const started = performance.now()
const { code, out } = await runTap()
const rows = parse(out)
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.versions.node, rows }, null, 2))
} else {
  console.log(`Measured with Node ${process.versions.node} on loopback, each plugin's route answering after ` +
    '600 ms with `threshold: 100, interval: 150, limit: 2` (two 102s), on a raw HTTP/1.1 client that parses ' +
    'every byte, then a second request on the same connection.\n')
  console.log('| plugin | version | checked | result |')
  console.log('|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.plugin} | ${r.version} | ${r.checked.replaceAll('|', '\\|')} | ${r.result.replaceAll('|', '\\|')} |`)
}
console.error(`\n${rows.length} checks in ${((performance.now() - started) / 1000).toFixed(1)} s` +
  `; ${rows.filter((r) => r.result.startsWith('FAIL')).length} failed`)
process.exitCode = code ?? 1
