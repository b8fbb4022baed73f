#!/usr/bin/env bash
# Rebuild the playground's example programs with clang-19.
#
#   playground/examples/build.sh [OUTDIR]     (default: playground/examples/)
#
# As scripts/build-fixtures.sh: compiled from inside this folder with relative
# source names and a fixed debug compilation directory, so the objects are
# the same bytes on every machine with the same clang build, and no path of
# this checkout lands in DWARF or BTF. .ci/suites/65-playground.sh checks
# that the committed objects are what this script builds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "playground examples: $CLANG not found (apt-get install -y clang-19 libbpf-dev)" >&2; exit 1; }
[ -e /usr/include/bpf/bpf_helpers.h ] || { echo "playground examples: libbpf headers missing (apt-get install -y libbpf-dev)" >&2; exit 1; }

FLAGS=(-O2 -g -Wall -Werror -I/usr/include/x86_64-linux-gnu -fdebug-compilation-dir=. -c)
cd "$here"
for src in *.c; do
  "$CLANG" -target bpfel "${FLAGS[@]}" "$src" -o "$out/${src%.c}.o"
done
"$CLANG" --version | head -1 > "$out/CLANG_VERSION"
echo "built $(ls "$out"/*.o | wc -l) objects into $out"
