// Proves: on Fastify 6's prerelease (Node >= 24) the version-dependent scenarios work, live, and the plugin's declarations accept exactly the prereleases checked here.
import { createRequire } from 'node:module'
import t from 'tap'
import processing from '../../index.js'
import { minorChecks } from './minors.js'

// Fastify 6 needs Node >= 24 (on Node 20, `Promise.withResolvers is not a function`); the lines below that
// skip, and say so. While Fastify 6 is a prerelease (-alpha, -pre, -rc), Fastify itself loads a plugin that
// declares the previous major (`fastify: '5.x'`): that is what this file checks. On 6.0.0 itself, `5.x`
// refuses with FST_ERR_PLUGIN_VERSION_MISMATCH, and the peer range refuses it at `npm install`, until a
// release of this plugin has run this file on it and declared 6.x.
const require = createRequire(import.meta.url)
const semver = require('semver') as { satisfies: (version: string, range: string) => boolean }
const { version } = require('fastify6/package.json') as { version: string }
const peer = (require('../../package.json') as { peerDependencies: { fastify: string } }).peerDependencies.fastify
const declared = (processing as unknown as Record<symbol, { fastify: string }>)[Symbol.for('plugin-meta')]?.fastify ?? ''

t.test(`the declarations: peer range "${peer}", fastify-plugin "${declared}"`, async (t) => {
  t.ok(semver.satisfies(version, peer), `npm installs the plugin beside fastify@${version}`)
  t.notOk(semver.satisfies('6.0.0', peer), 'npm refuses it beside fastify@6.0.0, not checked yet')
  t.notOk(semver.satisfies('6.0.0', declared), 'Fastify 6.0.0 refuses it at register (FST_ERR_PLUGIN_VERSION_MISMATCH)')
  t.ok(semver.satisfies('5.0.0', peer) && semver.satisfies('5.12.8', declared), 'Fastify 5 as before')
})

if (Number(process.versions.node.split('.')[0]) < 24) {
  const why = `Fastify ${version} needs Node >= 24; this is Node ${process.versions.node}`
  t.pass(why, { skip: why })
} else {
  minorChecks(t, 'fastify6', await import('fastify6'))
}
