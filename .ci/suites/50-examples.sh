#!/usr/bin/env bash
# The bundled example programs: rebuild examples/*.c with clang-19 and
# compare with the committed objects (the demo loads those, so it needs no
# clang), then run the README's first command, `node bin/tsbpf demo` (as root, CI's case,
# its kernel mode loads examples/kernel/execsnoop.o and syscount.o and traces the machine).
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
out="$(node bin/tsbpf demo)"
printf '%s\n' "$out"
if [ "$(id -u)" = 0 ]; then
  printf '%s\n' "$out" | grep -q "^Kernel mode (root): " || { echo "demo: as root, the kernel mode did not run" >&2; exit 1; }
fi
