#!/usr/bin/env bash
# Build the tracing programs the test kit's tests run (test/testing-progs/*.c)
# and the guide's (examples/testing/*.bpf.c, docs/testing.md) against the
# small kernel's vmlinux.h (include/tsbpf/kernel-model.h).
#
#   scripts/build-testing-progs.sh [OUTDIR]   (default: beside the sources; with OUTDIR,
#                                             OUTDIR/test/testing-progs and OUTDIR/examples/testing)
#
# The objects are committed so the tests need no clang; as for the fixtures,
# we compile from inside the folder with relative names and a fixed debug
# compilation directory, so a rebuild is byte for byte the same.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "build-testing-progs: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "build-testing-progs: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }
FLAGS=(-O2 -g -Wall -Werror -target bpfel -I/usr/include/$(uname -m)-linux-gnu -D__TARGET_ARCH_x86 -fdebug-compilation-dir=. -c)
out="${1:-$root}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
for dir in test/testing-progs examples/testing; do
  mkdir -p "$out/$dir"
  cd "$root/$dir"
  for src in *.c; do
    "$CLANG" "${FLAGS[@]}" "$src" -o "$out/$dir/${src%.c}.o"
  done
done
