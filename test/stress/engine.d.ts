import type { FastifyPluginCallback } from 'fastify'

export const THRESHOLD: number
export const INTERVAL: number
export const LIMIT: number
export function prng (seed: number): { next (): number, int (lo: number, hi: number): number, chance (p: number): boolean, pick<T> (list: T[]): T }
export function makeBody (id: string, len: number): string

export interface Report {
  seed: number
  sessions: number
  requests: number
  finals: number
  aborted: number
  interims: number
  violations: Record<string, number>
  violationCount: number
  examples: string[]
  resourcesLeft: string[]
  truncated: boolean
}
export function stress (options: {
  processing: FastifyPluginCallback<any> | ((...args: any[]) => unknown)
  seed: number
  requests?: number
  concurrency?: number
  maxSeconds?: number
  heapSlackMB?: number
}): Promise<Report>
