import type { FastifyInstance } from 'fastify'

export function neverStuck (
  app: FastifyInstance,
  work: {
    db: { query (sql: string, init: { signal: AbortSignal | undefined }): Promise<unknown> }
    sql: string
    render (rows: unknown): unknown
  }
): void
