#!/usr/bin/env bash
# npm run test:lines: the README's test command, `npm test`, on every Node line users run, then the coverage
# gate on the union of the lines. Each line's official binary comes from the npm registry's `node@N`
# package, installed once into a cache folder (never globally; the machine's own `node` is left alone).
#   NODE_LINES="22 24" npm run test:lines     a subset
#   NODE_LINES_CACHE=/path                    where the binaries are kept (default: .cache/node-lines)
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${NODE_LINES:-"20 22 24 26"}
cache=${NODE_LINES_CACHE:-"$PWD/.cache/node-lines"}
union=$(mktemp -d)
trap 'rm -rf "$union"' EXIT
summary=()
for line in $lines; do
  bin="$cache/$line/node_modules/node/bin"
  if [ ! -x "$bin/node" ]; then
    npm install --prefix "$cache/$line" --no-save --no-package-lock --no-audit --no-fund "node@$line" >/dev/null
  fi
  version=$("$bin/node" --version)
  echo
  echo "=== npm test on Node $version (npm package node@$line)"
  started=$SECONDS
  PATH="$bin:$PATH" npm test 2>&1 | tee "$union/$line.log"
  # Each run's raw V8 coverage, kept for the union (tap clears .tap/coverage at the start of a run).
  mkdir -p "$union/$line" && cp .tap/coverage/*.json "$union/$line/"
  tests=$(grep -o '# { total: [0-9]*, pass: [0-9]*' "$union/$line.log" | tail -n 1 | sed 's/# { //')
  gate=$(grep -o 'coverage gate (Node [^)]*): .*' "$union/$line.log" | tail -n 1)
  summary+=("Node $version: npm test passed in $((SECONDS - started)) s; tap $tests; $gate")
done
rm -rf .tap/coverage && mkdir -p .tap/coverage
for line in $lines; do cp "$union/$line"/*.json .tap/coverage/; done
echo
echo "=== coverage of the union of Node lines: $lines"
npx tap report --allow-incomplete-coverage --coverage-report=json --coverage-report=text
node scripts/coverage-gate.js --union
echo
printf '%s\n' "${summary[@]}"
