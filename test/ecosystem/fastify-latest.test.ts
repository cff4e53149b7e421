// Proves: on the latest Fastify 5 the version-dependent scenarios work, live.
import t from 'tap'
import { minorChecks } from './minors.js'

minorChecks(t, 'fastify', await import('fastify'))
