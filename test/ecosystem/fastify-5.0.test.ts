// Proves: on Fastify 5.0 (no handlerTimeout, no request.signal) the version-dependent scenarios work, live.
import t from 'tap'
import { minorChecks } from './minors.js'

minorChecks(t, 'fastify50', await import('fastify50'))
