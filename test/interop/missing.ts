import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Test } from 'tap'

/**
 * A peer that is not installed: fails under CI; otherwise a visible skip, noted in the file that
 * scripts/test-unit.js reads for its closing line (tap runs each test file in a process of its own).
 */
export function missing (t: Test, what: string, pkg: string): false {
  const why = `${what} is not installed: apt-get install -y ${pkg}`
  if (underCI()) {
    t.fail(`${why} (under CI a missing peer fails; .ci/install-peers.sh installs them all)`)
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
