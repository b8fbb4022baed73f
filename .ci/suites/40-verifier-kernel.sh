#!/usr/bin/env bash
# The verifier corpus's recorded verdicts against the live kernel (issue 5, part 6; the legacy-*
# files, the kernel's older test_verifier suite, issue 14 part 6): kloader
# is rebuilt and every case of test/verifier-corpus/*.txt loaded into Linux; a verdict that
# differs from test/verifier-corpus/verdicts.json fails the suite. Then the C programs of
# test/verifier-corpus/c and the fixtures are loaded with bpftool and their recorded verdicts
# checked (tsbpf's own agreement is npm test's job: test/verifier-corpus.test.ts and
# test/verifier-objects.test.ts).
# Needs root, gcc and libbpf-dev; skips with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "40-verifier-kernel: skipped: $*"; exit 0; }
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "not root"
command -v gcc >/dev/null || skip "gcc is not installed"
[ -f /usr/include/bpf/bpf.h ] || skip "libbpf-dev is not installed"

# The kernel's older suite (test_verifier's verifier/*.c, issue 14 part 6): the committed
# legacy-*.txt must be what the converter makes from Debian's linux-source-6.12; their verdicts
# are then re-checked below with every other case.
if [ ! -f /usr/src/linux-source-6.12.tar.xz ] && command -v apt-get >/dev/null; then
  apt-get install -y -qq linux-source-6.12 >/dev/null 2>&1 || true
fi
if [ -f /usr/src/linux-source-6.12.tar.xz ]; then
  scripts/convert-legacy-verifier.sh --check
else
  echo "40-verifier-kernel: legacy suite conversion: skipped: linux-source-6.12 is not installable here"
fi

echo "kernel $(uname -r); kernel.unprivileged_bpf_disabled=$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo '?')"
# The unprivileged cases' verdicts are the kernel's own: the script lowers
# kernel.unprivileged_bpf_disabled to 0 for the check (where root may) and restores it on exit.
scripts/record-verifier-verdicts.sh --check

if command -v bpftool >/dev/null; then
  node scripts/run-tests.mjs --test-name-pattern='running kernel' dist/test/verifier-objects.test.js
else
  echo "40-verifier-kernel: C objects: skipped: bpftool is not installed"
fi
