export class FramingError extends Error {}
export interface Head { version: string, status: number, reason: string, headers: Array<[string, string]>, close?: boolean }
export interface Final extends Head { body: Buffer }
export class ResponseParser<R extends { method: string } = { method: string }> {
  constructor (handlers: { onInterim (request: R, head: Head): void, onFinal (request: R, response: Final): void })
  unfinished?: { state: string, bytes: number }
  expect (request: R): void
  push (chunk: Buffer): void
  end (): R[]
}
