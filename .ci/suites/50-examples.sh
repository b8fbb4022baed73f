#!/usr/bin/env bash
# The bundled example programs: rebuild examples/*.c with clang-19 and
# compare with the committed objects (the demo loads those, so it needs no
# clang), then run the README's first command, `node bin/tsbpf demo`.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/src/cli/main.js ] || npm run build

if command -v "${CLANG:-clang-19}" >/dev/null && [ -e /usr/include/bpf/bpf_helpers.h ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  scripts/build-examples.sh "$tmp"
  "${CLANG:-clang-19}" --version | head -1
  fail=0
  for o in examples/*.o; do
    if ! cmp -s "$o" "$tmp/$(basename "$o")"; then
      echo "examples: $o differs from a fresh build of ${o%.o}.c (run scripts/build-examples.sh and commit)" >&2
      fail=1
    fi
  done
  [ "$fail" = 0 ] || exit 1
  echo "examples: committed objects match a fresh clang build"
else
  echo "skip rebuild: clang-19 or libbpf headers missing (apt-get install -y clang-19 libbpf-dev)"
fi

echo "--- node bin/tsbpf demo"
node bin/tsbpf demo
