import t from 'tap'
import { minorChecks } from './ecosystem/minors.js'

minorChecks(t, 'fastify57', await import('fastify57'))
