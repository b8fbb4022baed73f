#!/usr/bin/env bash
# Build the verifier corpus's C programs (test/verifier-corpus/c/*.c) into BPF
# objects next to them, with clang-19, deterministically (relative source names,
# fixed debug compilation directory). The .o files are committed so the
# verdict test runs where clang is missing.
#   scripts/build-verifier-c.sh [OUTDIR]     (default: test/verifier-corpus/c)
# SRC_DIR=DIR builds another directory of test C programs the same way
# (scripts/build-sandbox-c.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src_dir="${SRC_DIR:-$root/test/verifier-corpus/c}"
out="${1:-$src_dir}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "build-verifier-c: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "build-verifier-c: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }
cd "$src_dir"
for src in *.c; do
  "$CLANG" -target bpfel -O2 -g -Wall -Werror -I/usr/include/$(uname -m)-linux-gnu -fdebug-compilation-dir=. -c "$src" -o "$out/${src%.c}.o"
done
