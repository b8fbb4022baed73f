#!/usr/bin/env bash
# compare-objects.sh DIR BUILD_SCRIPT: the committed DIR/*.o must be what BUILD_SCRIPT (called
# with an output folder) builds from their C sources. Byte for byte with the same clang as
# DIR/CLANG_VERSION; with another clang build (it writes its own version string into DWARF
# and .comment) the code and relocations must be the same. Used by the CI suites for
# fixtures/ (20-fixtures) and playground/examples/ (65-playground). Exit 1 on any difference.
set -euo pipefail
dir="$1"
build="$2"
if ! command -v clang-19 >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "SKIP rebuild of $dir: clang-19 or libbpf-dev headers missing (apt-get install -y clang-19 libbpf-dev)"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$build" "$tmp" >/dev/null
status=0
same_clang=1
cmp -s "$dir/CLANG_VERSION" "$tmp/CLANG_VERSION" || same_clang=0
for f in "$dir"/*.o; do
  n="$(basename "$f")"
  if [ ! -e "$tmp/$n" ]; then echo "FAIL $n: committed but not built by $build"; status=1; continue; fi
  if cmp -s "$f" "$tmp/$n"; then echo "ok   $n (byte for byte)"; continue; fi
  if [ "$same_clang" = 1 ]; then
    echo "FAIL $n: differs from a rebuild with the same clang ($(cat "$tmp/CLANG_VERSION")); run $build"
    status=1
  elif command -v llvm-objdump-19 >/dev/null &&
    diff <(llvm-objdump-19 -d -r --no-show-raw-insn "$f" | tail -n +3) \
         <(llvm-objdump-19 -d -r --no-show-raw-insn "$tmp/$n" | tail -n +3) >/dev/null; then
    echo "ok   $n (same code and relocations; clang differs: $(cat "$tmp/CLANG_VERSION"))"
  else
    echo "FAIL $n: code differs from a rebuild with $(cat "$tmp/CLANG_VERSION")"
    status=1
  fi
done
for f in "$tmp"/*.o; do
  [ -e "$dir/$(basename "$f")" ] || { echo "FAIL $(basename "$f"): built by $build but not committed"; status=1; }
done
exit $status
