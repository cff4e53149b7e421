import type { FastifyInstance } from 'fastify'
import type { Agent as HttpAgent } from 'node:http'
import type { Dispatcher } from 'undici'
import type { FastifyProcessingOptions } from '../../dist/index.js'

export const BODY: string
export const CHUNKS: string[]
export const FAST: { threshold: number, interval: number }

export interface RunResult { code: number, error: string | null, stdout: string, stderr: string, ms: number }
export function run (cmd: string, args: string[], options?: { timeout?: number, input?: string }): Promise<RunResult>
export function which (cmd: string): Promise<string | null>
export function versions (): Promise<Record<'node' | 'nodeUndici' | 'undici' | 'fastify' | 'curl' | 'haproxy' | 'nginx' | 'python', string>>
export function freePort (): Promise<number>
export function onFreePort<T> (prefix: string, start: (port: number, dir: string) => Promise<T>, tries?: number): Promise<T>

export interface App {
  app: FastifyInstance
  port: number
  origin: string
  readonly connections: number
  logs (): Array<Record<string, unknown>>
  close (): Promise<undefined>
}
export function startApp (plugin?: FastifyProcessingOptions | null, options?: { http2?: boolean, logs?: boolean }): Promise<App>

export interface Response { status: number | null, body: string | null, interims: number[], error?: string | null }
export interface CurlResponse extends Response { interimVersions: string[], version: string | null }
export function parseCurlOutput (text: string): Array<{ status: number, version: string, headers: Record<string, string>, body: string }>
export function curl (urls: string | string[], options?: { mode?: 'http1.1' | 'http1.0' | 'h2c', extra?: string[], timeout?: number }): Promise<{ code: number, stderr: string, ms: number, results: CurlResponse[] }>

export interface Timed extends Response { ms: number, error: string | null }
export function nodeRequest (origin: string, path: string, options?: { agent?: HttpAgent | false, timeout?: number, headers?: Record<string, string> }): Promise<Timed & { reusedSocket?: boolean }>
export function nodeHttp2 (origin: string, paths: string[]): Promise<{ error: string | null, results: Response[] }>
export function undiciRequest (origin: string, path: string, options?: { dispatcher?: Dispatcher, headersTimeout?: number }): Promise<Timed>
export function fetchWith (fetchImpl: (url: string, init?: object) => Promise<{ status: number, text (): Promise<string> }>, url: string, options?: { dispatcher?: Dispatcher }): Promise<Omit<Timed, 'interims'>>
export function pythonClient (port: number, path: string, headers?: Record<string, string>): Promise<{ error: string | null, responses: Array<{ status: number | null, body: string | null, error: string | null }> }>

export interface Daemon { port: number, origin: string, dir: string, stop (): Promise<void>, output (): string }
export function daemon (what: string, cmd: string, args: string[], port: number, dir: string, env?: NodeJS.ProcessEnv): Promise<Daemon>
export function startHaproxy (upstream: number, options?: { timeoutServer?: string, forwardfor?: boolean }): Promise<Daemon>
export function startNginx (upstream: number, options?: { readTimeout?: string | null }): Promise<Daemon & { errorLog (): Promise<string> }>

export interface RawExchange { text: string, chunks: Array<{ at: number, data: string }>, closed: string, closedAt: number }
export function rawExchange (port: number, paths: string[], options?: { ms?: number, gap?: number }): Promise<RawExchange>
export interface RawResponse { interims: number[], status: number, headers: Record<string, string>, body: string }
export function rawRequests (port: number, paths: string[], options?: { ms?: number, headers?: Record<string, string> }): Promise<{ responses: RawResponse[], pending: number[], closed: string, rest: string, ms: number }>
export function statusLines (text: string): number[]
