// Proves: every FST_PROCESSING_* code is declared once in lib/errors.ts and documented in the README's code table.
// A code a user meets in a log or a stack trace must lead to one row that says when it happens and what
// to do; a row for a code that no longer exists, or a code written as a literal elsewhere (two wordings
// of one code, one of them undocumented), is what this file catches.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import * as errors from '../lib/errors.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string): string => readFileSync(join(root, file), 'utf8')

interface Declared { level: string, message: string }

/** Every code lib/errors.ts exports, with its level ('thrown' for an error) and its message template. */
function declared (): Map<string, Declared> {
  const out = new Map<string, Declared>()
  for (const [name, value] of Object.entries(errors)) {
    if (!name.startsWith('FST_PROCESSING_')) continue
    if (typeof value === 'function') {
      const err = new (value as new () => Error & { code: string })()
      out.set(err.code, { level: 'thrown', message: err.message })
    } else {
      const logged = value as { code: string, level: string, message: string }
      out.set(logged.code, { level: logged.level, message: logged.message })
    }
  }
  return out
}

/** The rows of the table under the README heading "## Error and log codes": code → level. */
function documented (): Array<[code: string, level: string]> {
  const readme = read('README.md')
  const start = readme.indexOf('\n## Error and log codes\n')
  if (start === -1) return []
  const next = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, next === -1 ? undefined : next)
  return [...section.matchAll(/^\| `(FST_PROCESSING_\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1] ?? '', (m[2] ?? '').trim()])
}

t.test('each export named FST_PROCESSING_* carries that code', async (t) => {
  for (const [name, value] of Object.entries(errors)) {
    if (!name.startsWith('FST_PROCESSING_')) continue
    const code = typeof value === 'function' ? new (value as new () => { code: string })().code : (value as { code: string }).code
    t.equal(code, name, `${name} declares the code it is named for`)
  }
})

t.test('the README\'s code table lists every declared code once, at its level, and no other', async (t) => {
  const codes = declared()
  const rows = documented()
  t.ok(codes.size >= 15, `${codes.size} codes declared`)
  t.ok(rows.length > 0, 'the README has a "## Error and log codes" table')
  t.same(rows.map(([code]) => code).filter((code, i, all) => all.indexOf(code) !== i), [], 'no code has two rows')
  for (const code of codes.keys()) t.ok(rows.some(([row]) => row === code), `${code} is in the table`)
  for (const [code, level] of rows) {
    const ours = codes.get(code)
    if (!t.ok(ours !== undefined, `the table's ${code} is declared in lib/errors.ts`) || ours === undefined) continue
    if (ours.level === 'thrown') t.match(level, /^thrown \((Type)?Error\)$/, `${code} is thrown`)
    else t.equal(level, ours.level, `${code} is logged at ${ours.level}`)
  }
})

t.test('every message is one short sentence', async (t) => {
  for (const [code, { message }] of declared()) {
    t.notMatch(message, /\.\s|\n/, `${code}: one sentence`)
    t.ok(message.length <= 200, `${code}: ${message.length} characters`)
  }
})

t.test('no FST_PROCESSING_ literal in index.ts or lib/ outside lib/errors.ts', async (t) => {
  const files = ['index.ts', ...readdirSync(join(root, 'lib')).filter((f) => f.endsWith('.ts') && f !== 'errors.ts').map((f) => `lib/${f}`)]
  t.ok(files.length > 5)
  for (const file of files) {
    t.same([...read(file).matchAll(/['"`]FST_PROCESSING_\w*/g)].map((m) => m[0]), [], `${file} names codes only through lib/errors.ts`)
  }
})
