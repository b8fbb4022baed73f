#!/usr/bin/env bash
# Build the example programs (examples/*.c) into BPF objects with clang-19.
#
#   scripts/build-examples.sh [OUTDIR]     (default: examples/)
#
# The objects are committed so that `tsbpf demo` needs no clang; CI rebuilds
# them and compares (.ci/suites/50-examples.sh). As for the fixtures, we
# compile from inside examples/ with relative names and a fixed debug
# compilation directory, so no absolute path lands in DWARF or BTF.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/examples}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "build-examples: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "build-examples: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }

FLAGS=(-O2 -g -Wall -Werror -target bpfel -I/usr/include/$(uname -m)-linux-gnu -I../include -D__TARGET_ARCH_x86 -fdebug-compilation-dir=. -c)

cd "$root/examples"
for src in *.c; do
  "$CLANG" "${FLAGS[@]}" "$src" -o "$out/${src%.c}.o"
done
# the kernel backend's examples (examples/kernel/, run as root)
mkdir -p "$out/kernel"
cd "$root/examples/kernel"
for src in *.c; do
  "$CLANG" "${FLAGS[@]}" "$src" -o "$out/kernel/${src%.c}.o"
done
echo "built $(ls "$out"/*.o "$out"/kernel/*.o | wc -l) objects into $out"
