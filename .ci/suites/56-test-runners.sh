#!/usr/bin/env bash
# tsbpf/testing in the user's own test runner (docs/testing.md, "Your test
# runner"): the package packed as a user gets it, installed into an empty
# project with Vitest and Jest from the npm registry, then the guide's
# example tests (examples/testing/guide.*.test.mjs, as the package ships
# them) under node:test, Vitest and Jest (ESM), and a TypeScript test under
# Vitest and under Jest with ts-jest. The runners are not dependencies of
# tsbpf: they are installed here only. Skips, saying why, when npm cannot
# reach the registry.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
VITEST=vitest@4 JEST=jest@30 TS_JEST=ts-jest@29 TYPESCRIPT=typescript@5

if ! timeout 30 npm view "$VITEST" version >/dev/null 2>&1; then
  echo "SKIP test runners: npm cannot reach the registry ($(npm config get registry)) to install $VITEST and $JEST"
  exit 0
fi
[ -f dist/src/testing/index.js ] || npm run build
tmp=$(mktemp -d /tmp/tsbpf-runners.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "--- npm pack, then install it with the runners into an empty project"
# dist/src is built (above, or by npm test before the suites): pack it as it is.
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$tmp" | tail -n 1)
mkdir "$tmp/app"
cd "$tmp/app"
printf '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }\n' > package.json
npm install --no-audit --no-fund --loglevel=error "$tmp/$tarball" "$VITEST" "$JEST" "$TS_JEST" "$TYPESCRIPT" >/dev/null
echo "vitest $(npx --offline vitest --version | head -1), jest $(npx --offline jest --version), node $(node --version)"
# The guide's tests and their objects, as the package ships them.
cp node_modules/tsbpf/examples/testing/guide.*.mjs node_modules/tsbpf/examples/testing/*.bpf.o .

echo "--- node:test"
node --test guide.node.test.mjs

echo "--- Vitest"
npx --offline vitest run guide.vitest.test.mjs

echo "--- Jest (ESM: --experimental-vm-modules, no transform)"
printf '{ "testEnvironment": "node", "transform": {}, "testMatch": ["**/*.jest.test.mjs"] }\n' > jest.config.json
NODE_OPTIONS=--experimental-vm-modules npx --offline jest --ci

echo "--- TypeScript: Vitest as it is, Jest through ts-jest (ESM)"
# One test body; each runner's file imports its own `test`.
body() {
  cat <<'TS'
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { TestKit } from 'tsbpf/testing';

test('typescript: execsnoop through tsbpf/testing', async () => {
  const kit = new TestKit();
  try {
    const coll = await kit.load(fileURLToPath(new URL('./execsnoop.bpf.o', import.meta.url)));
    const child = kit.model.object('task_struct', { pid: 9, tgid: 9, comm: 'sh' });
    const r = await kit.fire('tracepoint/sched/sched_process_exec', { task: child, fields: { filename: '/bin/sh', pid: 9, old_pid: 9 } });
    const e = kit.decode(coll, 'exec_event', r.records.events![0]!) as Record<string, unknown>;
    assert.equal(e.comm, 'sh');
  } finally {
    kit.close();
  }
});
TS
}
{ echo "import { test } from 'vitest';"; body; } > kit.vitest.test.ts
{ echo "import { test } from '@jest/globals';"; body; } > kit.jest.test.ts
printf '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "isolatedModules": true, "lib": ["ES2022", "DOM", "ESNext.Disposable"], "types": ["node"], "skipLibCheck": true } }\n' > tsconfig.json
npx --offline vitest run kit.vitest.test.ts
cat > jest.ts.config.json <<'JSON'
{ "testEnvironment": "node", "testMatch": ["**/*.jest.test.ts"], "extensionsToTreatAsEsm": [".ts"],
  "transform": { "^.+\\.ts$": ["ts-jest", { "useESM": true }] } }
JSON
NODE_OPTIONS=--experimental-vm-modules npx --offline jest --ci -c jest.ts.config.json
echo "test runners: the guide's tests pass under node:test, Vitest and Jest"
