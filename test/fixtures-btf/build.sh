#!/usr/bin/env bash
# Rebuild the BTF fixtures with clang-19 and record bpftool's view of them.
# The .o files and the recorded outputs are committed so the tests need no
# clang; CI runs this and checks nothing changed (`git diff --exit-code`).
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
if ! command -v "$CLANG" >/dev/null; then echo "skip: $CLANG not installed"; exit 0; fi
INC=()
[ -d "/usr/include/$(uname -m)-linux-gnu" ] && INC+=("-I/usr/include/$(uname -m)-linux-gnu")
for c in kinds.c core.c lines.c; do
  # relative source path: line_info file names do not depend on the checkout location
  "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -fdebug-prefix-map="$PWD"=. "${INC[@]}" -c "$c" -o "${c%.c}.o"
  "$CLANG" -O2 -g -target bpfeb -D__TARGET_ARCH_x86 -fdebug-prefix-map="$PWD"=. "${INC[@]}" -c "$c" -o "${c%.c}.be.o"
done
# CO-RE against tsbpf's own context types (test/runtime-core.test.ts); little-endian only
"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -fdebug-prefix-map="$PWD"=. "${INC[@]}" -c core_ctx.c -o core_ctx.o
if command -v bpftool >/dev/null; then
  for o in kinds core lines; do
    bpftool btf dump file "$o.o" > "$o.raw.txt"
    bpftool btf dump file "$o.o" format c > "$o.c.txt"
    bpftool -j btf dump file "$o.o" > "$o.json.txt"
  done
else
  echo "bpftool not installed: recorded dumps not refreshed"
fi
