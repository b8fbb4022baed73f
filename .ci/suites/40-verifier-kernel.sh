#!/usr/bin/env bash
# The verifier corpus's recorded verdicts against the live kernel (issue 5, part 6): kloader
# is rebuilt and every case of test/verifier-corpus/*.txt loaded into Linux; a verdict that
# differs from test/verifier-corpus/verdicts.json fails the suite. Then the C programs of
# test/verifier-corpus/c are rebuilt with clang-19 and their kernel verdicts checked too.
# Needs root, gcc and libbpf-dev; skips with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "40-verifier-kernel: skipped: $*"; exit 0; }
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "not root"
command -v gcc >/dev/null || skip "gcc is not installed"
[ -f /usr/include/bpf/bpf.h ] || skip "libbpf-dev is not installed"

echo "kernel $(uname -r); kernel.unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo '?')"
scripts/record-verifier-verdicts.sh --check

if command -v clang-19 >/dev/null && command -v bpftool >/dev/null; then
  [ -f dist/test/verifier-objects.test.js ] || npx tsc -p . >/dev/null || true
  TSBPF_VERIFIER_KERNEL=1 node --test --test-reporter=spec dist/test/verifier-objects.test.js
else
  echo "40-verifier-kernel: C objects: skipped: clang-19 or bpftool is not installed"
fi
