import { access } from 'node:fs/promises'
import type { Test } from 'tap'
import { which } from './peers.js'

/**
 * Whether a peer binary is installed. A missing peer fails the test (CI installs every peer with
 * `apt-get install -y curl haproxy nginx`); only FASTIFY_PROCESSING_INTEROP_SKIP_MISSING=1 turns that into a
 * skip, and the skip says why. A `cmd` that is an absolute path (a jar, say) only has to exist.
 */
export async function needs (t: Test, cmd: string, pkg: string = cmd): Promise<boolean> {
  const present = cmd.startsWith('/') ? await access(cmd).then(() => true, () => false) : await which(cmd) !== null
  if (present) return true
  const why = `${cmd} is not installed: run \`apt-get install -y ${pkg}\` (as .ci/run does)`
  if (process.env.FASTIFY_PROCESSING_INTEROP_SKIP_MISSING === '1') {
    t.comment(`skipping: ${why}`)
    t.pass(why, { skip: why })
  } else {
    t.fail(why)
  }
  return false
}
