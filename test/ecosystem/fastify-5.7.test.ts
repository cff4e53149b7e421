// Proves: on Fastify 5.7, the last minor without handlerTimeout, the version-dependent scenarios work, live.
import t from 'tap'
import { minorChecks } from './minors.js'

minorChecks(t, 'fastify57', await import('fastify57'))
