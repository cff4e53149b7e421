import t from 'tap'
import { minorChecks } from './ecosystem/minors.js'

minorChecks(t, 'fastify', await import('fastify'))
