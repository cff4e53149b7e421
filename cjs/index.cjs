'use strict'
// `require('fastify-processing')` returns the plugin itself, as a CommonJS Fastify plugin does, with the
// ES module's other exports on it (`.default` and `.fastifyProcessing` are set by fastify-plugin).
// require() of an ES module is native from Node 20.19, the engines floor.
const esm = require('./index.js')
module.exports = esm.default
module.exports.knownPeers = esm.knownPeers
module.exports.knownPaths = esm.knownPaths
module.exports.proxySigns = esm.proxySigns
