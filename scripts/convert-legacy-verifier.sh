#!/usr/bin/env bash
# Convert the kernel's older verifier suite (tools/testing/selftests/bpf/verifier/*.c, run by
# test_verifier) into verifier-corpus cases: test/verifier-corpus/legacy-<file>.txt.
#   scripts/convert-legacy-verifier.sh            from Debian's /usr/src/linux-source-6.12.tar.xz
#   scripts/convert-legacy-verifier.sh DIR        from an unpacked kernel source tree at DIR
#   scripts/convert-legacy-verifier.sh --check    convert, then fail if the committed files differ
# Then record the kernel's verdicts: scripts/record-verifier-verdicts.sh --group legacy-
# The suite's files are only read (#included by test/verifier-corpus/legacy/dump.c); nothing of
# them is committed but the converted programs. Needs gcc and linux-libc-dev's uapi headers.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
src=
for a in "$@"; do
  case "$a" in --check) check=1 ;; *) src=$a ;; esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$src" ]; then
  tarball=/usr/src/linux-source-6.12.tar.xz
  [ -f "$tarball" ] || { echo "convert-legacy-verifier: $tarball is missing (apt-get install linux-source-6.12)" >&2; exit 2; }
  # only the files the suite needs: its folder, filter.h's instruction macros, test_btf.h
  tar -xJf "$tarball" -C "$tmp" --wildcards 'linux-source-6.12/tools/testing/selftests/bpf/verifier/*.c' \
    linux-source-6.12/tools/include/linux/filter.h linux-source-6.12/tools/testing/selftests/bpf/test_btf.h
  src=$tmp/linux-source-6.12
fi
bpf=$src/tools/testing/selftests/bpf
[ -d "$bpf/verifier" ] || { echo "convert-legacy-verifier: no $bpf/verifier" >&2; exit 2; }
for f in "$bpf"/verifier/*.c; do
  n=$(basename "$f" .c)
  printf 'FILE_MARK("%s")\n#include "verifier/%s.c"\n' "$n" "$n"
done > "$tmp/legacy-files.h"
gcc -O0 -w -fms-extensions -I"$tmp" -I"$bpf" -I/usr/include/"$(uname -m)"-linux-gnu \
  -o "$tmp/dump" test/verifier-corpus/legacy/dump.c
"$tmp/dump" > "$tmp/dump.txt"
npx tsc -p . >/dev/null || true   # emits even when someone else's file has type errors
node dist/test/verifier-corpus/legacy/convert.js "$tmp/dump.txt"
if [ "$check" = 1 ]; then
  git diff --exit-code --stat -- 'test/verifier-corpus/legacy-*.txt' ||
    { echo "convert-legacy-verifier: the committed legacy-*.txt differ from a fresh conversion" >&2; exit 1; }
  untracked=$(git ls-files --others --exclude-standard -- 'test/verifier-corpus/legacy-*.txt')
  [ -z "$untracked" ] || { echo "convert-legacy-verifier: new files not committed: $untracked" >&2; exit 1; }
  echo "convert-legacy-verifier: the committed cases are what the converter makes"
fi
