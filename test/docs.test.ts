// Proves: every link in the docs lands, in the checkout and in the packed tarball; test/README.md maps every part and test file.
// A newcomer reads the README and test/README.md first: a link to a heading that moved, or a test file
// that the map does not name, sends them nowhere. Only links inside this checkout are followed. A user
// reads the README installed from the tarball, where only the shipped files exist: there is no
// repository to resolve a link against, so a link from a shipped file must land on a shipped file.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string): string => readFileSync(join(root, file), 'utf8')

function walk (dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(root, path)).isDirectory() ? walk(path) : [path]
  })
}

/** The text a reader sees as prose: fenced code and HTML comments removed. */
const prose = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '').replace(/<!--[\s\S]*?-->/g, '')

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors (markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const [, heading = ''] of prose(markdown).matchAll(/^#{1,6} +(.+?) *$/gm)) {
    const slug = heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    out.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return out
}

/** Every link of a Markdown file that points inside the checkout, as [target file, anchor]. */
function localLinks (file: string): Array<{ text: string, target: string, anchor: string | null }> {
  return [...prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((href) => !/^[a-z]+:/i.test(href))
    .map((href) => {
      const [path, anchor] = href.split('#') as [string, string | undefined]
      return { text: href, target: path === '' ? file : relative(root, join(root, dirname(file), path)), anchor: anchor ?? null }
    })
}

const markdown = ['README.md', 'CHANGELOG.md', 'test/README.md', ...walk('docs').filter((f) => f.endsWith('.md'))]
const testFiles = walk('test').filter((f) => f.endsWith('.test.ts')).sort()

t.test('every local link in the README, the CHANGELOG, docs/ and test/README.md lands on a file and heading', async (t) => {
  for (const file of markdown) {
    const links = localLinks(file)
    for (const { text, target, anchor } of links) {
      if (!t.ok(existsSync(join(root, target)), `${file}: (${text}) points at ${target}, which exists`)) continue
      if (anchor !== null) t.ok(anchors(read(target)).has(anchor), `${file}: (${text}) points at a heading of ${target}`)
    }
  }
})

t.test('every link in a Markdown file of the packed tarball lands on a shipped file and heading', async (t) => {
  // The file list `npm pack` would ship, from package.json's "files"; nothing is built or written.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--loglevel=error'], { cwd: root, encoding: 'utf8' })
  const [packed] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ files: Array<{ path: string }> }>
  const shipped = new Set((packed?.files ?? []).map((f) => f.path))
  const shippedMarkdown = [...shipped].filter((f) => f.endsWith('.md')).sort()
  t.ok(shippedMarkdown.includes('README.md') && shippedMarkdown.some((f) => f.startsWith('docs/')),
    `the tarball ships the README and docs/ (Markdown shipped: ${shippedMarkdown.join(', ')})`)
  for (const file of shippedMarkdown) {
    for (const { text, target, anchor } of localLinks(file)) {
      if (!t.ok(shipped.has(target), `${file}: (${text}) points at ${target}, which the tarball ships`)) continue
      if (anchor !== null) t.ok(anchors(read(target)).has(anchor), `${file}: (${text}) points at a heading of ${target}`)
    }
  }
})

t.test('the README reads in one sitting: at most 400 lines', async (t) => {
  const lines = read('README.md').split('\n').length
  t.ok(lines <= 400, `README.md has ${lines} lines`)
})

t.test('every test file opens with one line saying what it proves', async (t) => {
  t.ok(testFiles.length > 0)
  for (const file of testFiles) {
    t.match(read(file).split('\n')[0], /^\/\/ Proves: \S.*\S$/, `${file} opens with "// Proves: …"`)
  }
})

t.test('test/README.md names every part of the product and links every test file', async (t) => {
  const map = read('test/README.md')
  const parts = ['index.ts', ...readdirSync(join(root, 'lib')).filter((f) => f.endsWith('.ts')).map((f) => `lib/${f}`)]
  for (const part of parts) t.ok(map.includes(`\`${part}\``), `test/README.md names ${part}`)
  // A folder link maps every test in it: one row for a folder of one file per plugin, say.
  const linked = localLinks('test/README.md').map((l) => l.target)
  for (const file of testFiles) {
    t.ok(linked.some((target) => file === target || file.startsWith(target.replace(/\/?$/, '/'))), `test/README.md links ${file}, or its folder`)
  }
})
