import t from 'tap'
import { minorChecks } from './ecosystem/minors.js'

minorChecks(t, 'fastify58', await import('fastify58'))
