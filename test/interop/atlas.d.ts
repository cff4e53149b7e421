import type { FastifyProcessingOptions } from '../../dist/index.js'
import type { CurlResponse, Daemon } from './peers.js'

export const PYTHON: string
export interface AtlasApp { port: number, origin: string, readonly connections: number, close (): Promise<undefined> }
export interface ClientResult { status: number | null, ok: boolean, interims: number | null, error: string | null, ua: string | null, upstream: Record<string, string> | null, sent: number | null }
export function startAtlasApp (plugin: FastifyProcessingOptions | null): Promise<AtlasApp>
export function javaClient (url: string, n?: number): Promise<ClientResult[]>
export const OKHTTP_CLASSPATH: string
export function okhttpClient (urls: string[]): Promise<Array<ClientResult & { body: string | null, ms: number }>>
export function goClient (url: string, n?: number): Promise<ClientResult[]>
export function pythonLib (lib: 'requests' | 'urllib' | 'httpx' | 'aiohttp', url: string, n?: number): Promise<ClientResult[]>
export function rubyClient (url: string, n?: number): Promise<ClientResult[]>
export function chromiumFetch (origin: string, ms: number): Promise<ClientResult>
export type Proxy = Omit<Daemon, 'dir'>
export function startApache (upstream: number, options?: { timeout?: number }): Promise<Proxy>
export function startCaddy (upstream: number, options?: { readTimeout?: string, responseHeaderTimeout?: string | null }): Promise<Proxy>
export function startVarnish (upstream: number, options?: { firstByteTimeout?: number }): Promise<Proxy>
export function startSquid (upstream: number, options?: { readTimeout?: number }): Promise<Proxy>
export function startGoProxy (upstream: number): Promise<Proxy>
export function startH2o (upstream: number, options?: { ioTimeout?: number }): Promise<Proxy>
export function startLighttpd (upstream: number): Promise<Proxy>
export function startTrafficServer (upstream: number): Promise<Proxy>
export function atlasVersions (): Promise<Record<string, string>>
export function withApp<T> (plugin: FastifyProcessingOptions | null, fn: (app: AtlasApp) => Promise<T>): Promise<T>
export function throughProxy<T, O> (plugin: FastifyProcessingOptions | null, start: (upstream: number, options?: O) => Promise<Proxy>, options: O | undefined, fn: (proxy: Proxy, app: AtlasApp) => Promise<T>): Promise<T>
export const CLIENT_NAMES: Array<'java' | 'go' | 'requests' | 'urllib' | 'httpx' | 'aiohttp' | 'ruby'>
export function clientRun (name: typeof CLIENT_NAMES[number], plugin: FastifyProcessingOptions | null, options?: { ms?: number, n?: number }): Promise<{ responses: ClientResult[], connections: number }>
export function capProbe<T> (tries: number[], probe: (app: AtlasApp, query: string) => Promise<T>): Promise<Record<number, T>>
export type { CurlResponse }
