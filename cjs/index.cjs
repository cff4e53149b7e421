'use strict'
// `require('fastify-processing')` returns the plugin itself, as a CommonJS Fastify plugin does, with the
// ES module's other exports on it (`.default` and `.fastifyProcessing` are set by fastify-plugin).
// require() of an ES module is native from Node 20.19 and 22.12, the engines floors: 21.x and 22.0–22.11
// throw ERR_REQUIRE_ESM here, and 23.0 prints an ExperimentalWarning on a user's first require(), so
// engines admits neither line (npm warns before it installs). 22.12 warns only when this file is outside
// node_modules (npm link); 20.19, 22.13 and later never do. scripts/test-floors.js loads the tarball on
// the lowest release of each admitted line.
const esm = require('./index.js')
module.exports = esm.default
module.exports.knownPeers = esm.knownPeers
module.exports.knownPaths = esm.knownPaths
module.exports.proxySigns = esm.proxySigns
