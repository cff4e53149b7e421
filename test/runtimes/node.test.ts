// Proves: under node, the built plugin on a real app keeps every wire rule, seen from a Node client.
import t from 'tap'
import { runtimeChecks } from './checks.js'

runtimeChecks(t, 'node')
