#!/usr/bin/env bash
# Rebuild core_ctx.o (committed, so test/runtime-core.test.ts needs no clang).
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
if ! command -v "$CLANG" >/dev/null; then echo "skip: $CLANG not installed"; exit 0; fi
INC=()
[ -d /usr/include/x86_64-linux-gnu ] && INC+=(-I/usr/include/x86_64-linux-gnu)
"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -fdebug-prefix-map="$PWD"=. "${INC[@]}" -c core_ctx.c -o core_ctx.o
