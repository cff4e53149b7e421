import type { Test } from 'tap'
import { PINNED, runtimeBinary } from '../../scripts/runtimes.js'

/**
 * Whether the pinned Bun or Deno is installed. On a developer's machine a missing one is a skip that says
 * how to install it; under CI (CI=true, as .ci/run sets) it is a failure, since .ci/run installs both.
 */
export function needsRuntime (t: Test, runtime: 'node' | 'bun' | 'deno'): boolean {
  if (runtime === 'node' || runtimeBinary(runtime) !== null) return true
  const why = `${runtime} ${PINNED[runtime]} is not installed: run \`npm run runtimes\` (as .ci/run does)`
  if (process.env.CI === 'true') t.fail(why)
  else t.pass(why, { skip: why })
  return false
}
