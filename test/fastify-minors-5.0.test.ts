import t from 'tap'
import { minorChecks } from './ecosystem/minors.js'

minorChecks(t, 'fastify50', await import('fastify50'))
