// Proves: on Fastify 5.8, the first minor with handlerTimeout and request.signal, the version-dependent scenarios work, live.
import t from 'tap'
import { minorChecks } from './minors.js'

minorChecks(t, 'fastify58', await import('fastify58'))
