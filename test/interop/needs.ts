import { access } from 'node:fs/promises'
import type { Test } from 'tap'
import { missing } from './missing.js'
import { which } from './peers.js'

/**
 * Whether a peer binary is installed. A `cmd` that is an absolute path (a jar, say) only has to exist.
 * A missing peer is a skip that names its Debian package, so that `npm test` passes on a machine with
 * only Node and npm; under CI (`CI` set, as .ci/run does) it fails, so CI can never pass by skipping.
 */
export async function needs (t: Test, cmd: string, pkg: string = cmd): Promise<boolean> {
  const present = cmd.startsWith('/') ? await access(cmd).then(() => true, () => false) : await which(cmd) !== null
  return present || missing(t, cmd, pkg)
}
