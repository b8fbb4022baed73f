#!/usr/bin/env bash
# The bpf_conformance suite (../shared/bpf-conformance): every test through
# `tsbpf conformance` (interpreter, and the JIT when it is built), then through
# the plugin protocol with one plugin process per test, as the suite's own
# runner drives a runtime (memory as one argument, options as another,
# program as hex on stdin, r0 in hex on stdout).
set -euo pipefail
cd "$(dirname "$0")/../.."

SUITE="${TSBPF_SHARED:-../shared}/bpf-conformance"
if [ ! -d "$SUITE/tests" ]; then
  echo "skip: no conformance suite at $SUITE/tests"
  exit 0
fi
[ -f dist/src/cli/main.js ] || npm run build

echo "--- tsbpf conformance --interpret"
node bin/tsbpf conformance "$SUITE/tests" --interpret | tail -n 20

if [ -f dist/src/vm/jit/index.js ]; then
  echo "--- tsbpf conformance --jit"
  node bin/tsbpf conformance "$SUITE/tests" --jit | tail -n 20
else
  echo "--- skip --jit: dist/src/vm/jit/index.js is not built"
fi

echo "--- plugin protocol: bin/tsbpf-conformance-plugin, one process per test"
SUITE="$SUITE" node --input-type=module <<'JS'
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parseTestFile } from './dist/src/conformance/data.js';
const dir = process.env.SUITE;
const modes = ['--interpret'];
try { readFileSync('dist/src/vm/jit/index.js'); modes.push('--jit'); } catch {}
let failed = 0;
let passed = 0;
for (const mode of modes) {
  for (const f of readdirSync(`${dir}/tests`).filter((f) => f.endsWith('.data')).sort()) {
    const name = f.replace(/\.data$/, '');
    const t = parseTestFile(readFileSync(`${dir}/tests/${f}`, 'utf8'), name);
    const hex = readFileSync(`${dir}/bytecode/${name}.hex`, 'utf8').trim();
    const mem = Array.from(t.mem, (b) => `${b.toString(16).padStart(2, '0')}  `).join('');
    const r = spawnSync(process.execPath, ['bin/tsbpf-conformance-plugin', mem, mode], { input: `${hex}\n`, encoding: 'utf8' });
    let ok = r.status === 0;
    if (ok) {
      try { ok = BigInt(`0x${r.stdout.trim()}`) === t.result; } catch { ok = false; }
    }
    if (ok) passed++;
    else {
      failed++;
      console.log(`FAIL ${mode} ${name}: status ${r.status} stdout '${r.stdout.trim()}' stderr '${r.stderr.trim()}'`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
JS
