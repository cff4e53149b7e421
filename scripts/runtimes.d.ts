export declare const PINNED: { bun: string, deno: string }
export declare function runtimeBinary (name: 'bun' | 'deno'): string | null
export declare function runtimeCommand (name: 'node' | 'bun' | 'deno', file: string): [string, string[]]
export declare function install (): Record<'bun' | 'deno', string>
