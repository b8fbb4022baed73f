#!/usr/bin/env bash
# The API reference: `npm run docs` (TypeDoc over the package's entries, into dist/api/) must
# build without a warning: typedoc.json turns warnings into errors and validates links, so a
# broken {@link} or a link TypeDoc cannot resolve fails CI. (The README's and docs/hooks.md's
# code snippets are run by npm test: test/readme-example.test.ts.)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d node_modules/typedoc ] || npm ci --no-audit --no-fund
npm run --silent docs
[ -f dist/api/index.html ] || { echo "70-docs: dist/api/index.html was not written"; exit 1; }
echo "70-docs: API reference in dist/api ($(find dist/api -name '*.html' | wc -l) pages), no broken links"
