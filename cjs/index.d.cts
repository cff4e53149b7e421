// Types for `require('fastify-processing')`. They come from a copy of the declarations under
// dist/cjs/, which its package.json marks CommonJS: a CommonJS file may not import an ES module's
// types without a resolution-mode attribute, which TypeScript accepts only from 5.3.
import esm = require('./cjs/index.js')

type Plugin = typeof esm.default
declare const fastifyProcessing: Plugin & {
  readonly default: Plugin
  readonly fastifyProcessing: Plugin
  readonly knownPeers: typeof esm.knownPeers
  readonly knownPaths: typeof esm.knownPaths
  readonly proxySigns: typeof esm.proxySigns
}
declare namespace fastifyProcessing {
  export type FastifyProcessingOptions = esm.FastifyProcessingOptions
  export type ProcessingRouteOptions = esm.ProcessingRouteOptions
  export type ProcessingHeaders = esm.ProcessingHeaders
  export type PeerRule = esm.PeerRule
  export type PathName = esm.PathName
  export type PathRule = esm.PathRule
  export type Behind = esm.Behind
  export type ProbeOptions = esm.ProbeOptions
  export type SentMessage = esm.SentMessage
  export type WithheldMessage = esm.WithheldMessage
  export type WithheldReason = esm.WithheldReason
}
export = fastifyProcessing
