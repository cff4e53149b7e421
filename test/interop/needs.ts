import { execFile } from 'node:child_process'
import { appendFileSync, mkdirSync } from 'node:fs'
import { access } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Test } from 'tap'

/**
 * Whether a peer is installed: a command on PATH, or a file at an absolute path (a jar, say). A missing
 * peer is a skip that names its Debian package, so that `npm test` passes on a machine with only Node and
 * npm; under CI (`CI` set, as .ci/run does) it fails, so CI can never pass by skipping. Loads nothing of
 * the product, so tests of the sources use it too.
 */
export async function needs (t: Test, cmd: string, pkg: string = cmd): Promise<boolean> {
  const present = cmd.startsWith('/')
    ? await access(cmd).then(() => true, () => false)
    : await new Promise<boolean>((resolve) => execFile('sh', ['-c', `command -v ${cmd}`], (err) => resolve(err === null)))
  return present || missing(t, cmd, pkg)
}

/**
 * A peer that is not installed: fails under CI; otherwise a visible skip, noted in the file that
 * scripts/test-unit.js reads for its closing line (tap runs each test file in a process of its own).
 */
export function missing (t: Test, what: string, pkg: string): false {
  const why = `${what} is not installed: apt-get install -y ${pkg}`
  if (underCI()) {
    t.fail(`${why} (under CI a missing peer fails; .ci/run installs every peer)`)
    return false
  }
  t.pass(why, { skip: why })
  const file = process.env.FASTIFY_PROCESSING_SKIPPED
  if (file !== undefined) {
    mkdirSync(dirname(file), { recursive: true })
    appendFileSync(file, JSON.stringify({ test: t.fullname, pkg }) + '\n')
  }
  return false
}

function underCI (): boolean {
  const ci = process.env.CI
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false'
}
