#!/usr/bin/env bash
# The test kit's committed objects (docs/testing.md): the small kernel's BTF
# and its vmlinux.h (scripts/build-kernel-model.sh), the tests' and the
# guide's programs (scripts/build-testing-progs.sh), each rebuilt with
# clang-19 and compared byte for byte with what is committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v "${CLANG:-clang-19}" >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "SKIP testing objects: clang-19 or libbpf-dev headers missing (apt-get install -y clang-19 libbpf-dev)"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
scripts/build-testing-progs.sh "$tmp"
fail=0
for o in test/testing-progs/*.o examples/testing/*.o; do
  if ! cmp -s "$o" "$tmp/$o"; then
    echo "testing: $o differs from a fresh build (run scripts/build-testing-progs.sh and commit)" >&2
    fail=1
  fi
done
# The kernel model's object and data module: rebuilt in place, then compared with git.
scripts/build-kernel-model.sh
if ! git diff --quiet -- src/testing/btf/kernel-model.o src/testing/kernel-btf-data.ts include/tsbpf/kernel-model.h; then
  echo "testing: the small kernel's BTF differs from a fresh build of src/testing/btf/kernel-model.c" >&2
  git diff --stat -- src/testing/btf src/testing/kernel-btf-data.ts include/tsbpf/kernel-model.h >&2
  fail=1
fi
[ "$fail" = 0 ] || exit 1
echo "testing: committed objects match a fresh clang build"
