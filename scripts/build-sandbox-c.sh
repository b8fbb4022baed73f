#!/usr/bin/env bash
# Build the sandbox tests' C programs (test/sandbox-c/*.c: objects Linux
# refuses for safety, and their controls) into BPF objects next to them, with
# clang-19, deterministically (relative source names, fixed debug compilation
# directory). The .o files are committed so the tests run where clang is
# missing; they are not fixtures, since fixtures must all load into Linux.
#   scripts/build-sandbox-c.sh [OUTDIR]     (default: test/sandbox-c)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/test/sandbox-c}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "build-sandbox-c: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "build-sandbox-c: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }
cd "$root/test/sandbox-c"
for src in *.c; do
  "$CLANG" -target bpfel -O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -fdebug-compilation-dir=. -c "$src" -o "$out/${src%.c}.o"
done
