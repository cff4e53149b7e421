// Every test covers the sources; dist/ (loaded by packaging and interop tests) is never measured twice.
export default function coverageMap () {
  return ['index.ts', 'lib/']
}
