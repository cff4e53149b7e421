import { readdirSync } from 'node:fs'

// Every test covers the sources; dist/ (loaded by packaging and interop tests) is never measured twice.
const sources = ['index.ts', ...readdirSync(new URL('../lib', import.meta.url)).map((f) => `lib/${f}`)]

export default function coverageMap () {
  return sources
}
