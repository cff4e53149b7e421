import createError from '@fastify/error'
import { inspect } from 'node:util'

// Option errors are TypeErrors raised while the app is being built (register, route declaration or
// ready()), never while a request is served: a typo in `threshold` must stop a deploy, not a request.
export const FST_PROCESSING_INVALID_OPTION = createError<'FST_PROCESSING_INVALID_OPTION', 500, [where: string, option: string, expected: string, received: string]>(
  'FST_PROCESSING_INVALID_OPTION',
  '%s: "%s" must be %s, received %s',
  500,
  TypeError
)

export const FST_PROCESSING_UNKNOWN_OPTION = createError<'FST_PROCESSING_UNKNOWN_OPTION', 500, [where: string, option: string, known: string]>(
  'FST_PROCESSING_UNKNOWN_OPTION',
  '%s: unknown option "%s" (known options: %s)',
  500,
  TypeError
)

export const FST_PROCESSING_INVALID_HEADER = createError<'FST_PROCESSING_INVALID_HEADER', 500, [header: string, problem: string, received: string]>(
  'FST_PROCESSING_INVALID_HEADER',
  'reply.processing(): interim header %s %s, received %s',
  500,
  TypeError
)

/** A short, single-line rendering of any value for an error message. */
export function show (value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 64 })
}

export const FST_PROCESSING_ALREADY_REGISTERED = createError<'FST_PROCESSING_ALREADY_REGISTERED', 500, []>(
  'FST_PROCESSING_ALREADY_REGISTERED',
  'fastify-processing is already registered in this context: both registrations would claim every route declared after them, and the later one would silently override the earlier. Register it once here, and again only inside a child context (fastify.register(async (child) => { child.register(fastifyProcessing, options) })) for routes that need other options, or set config.processing per route',
  500,
  Error
)
