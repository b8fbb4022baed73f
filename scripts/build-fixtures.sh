#!/usr/bin/env bash
# Rebuild the C fixtures into BPF object files with clang-19.
#
#   scripts/build-fixtures.sh [OUTDIR]     (default: fixtures/)
#
# The output is deterministic for a given clang build: we compile from inside
# fixtures/ with relative source names and a fixed debug compilation
# directory, so no absolute path of this checkout lands in DWARF or BTF.
# Every fixture is built little-endian (fixtures/NAME.o, what Linux on x86
# and arm64 loads); a few are also built big-endian (NAME.bpfeb.o) so the
# object reader's big-endian path is tested on real clang output.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/fixtures}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "build-fixtures: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "build-fixtures: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }

FLAGS=(-O2 -g -Wall -Werror -I/usr/include/$(uname -m)-linux-gnu -fdebug-compilation-dir=. -c)
BIG_ENDIAN=(xdp_firewall global_data bpf2bpf)

cd "$root/fixtures"
for src in *.c; do
  name="${src%.c}"
  "$CLANG" -target bpfel "${FLAGS[@]}" "$src" -o "$out/$name.o"
done
for name in "${BIG_ENDIAN[@]}"; do
  "$CLANG" -target bpfeb "${FLAGS[@]}" "$name.c" -o "$out/$name.bpfeb.o"
done
"$CLANG" --version | head -1 > "$out/CLANG_VERSION"
echo "built $(ls "$out"/*.o | wc -l) objects into $out"
