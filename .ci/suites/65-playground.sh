#!/usr/bin/env bash
# The browser playground (playground/, docs/playground.md):
#  1. the committed example objects are what playground/examples/build.sh
#     builds from their C sources (as 20-fixtures.sh does for fixtures/);
#  2. as root with bpftool, Linux agrees with each example's verdict: the
#     accepted ones load, the broken ones are refused;
#  3. the site builds (npm run build:playground), and the end-to-end test
#     drives Debian's chromium through it (installed here as 60-browser.sh
#     does; without it the test prints why it skips). Its screenshots are in
#     dist/playground-screenshots/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

status=0
tmp="$(mktemp -d)"
pindir=""
cleanup() {
  [ -n "$pindir" ] && rm -rf "$pindir"
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "--- rebuild the examples and compare"
if ! command -v clang-19 >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "SKIP rebuild: clang-19 or libbpf-dev headers missing (apt-get install -y clang-19 libbpf-dev)"
else
  playground/examples/build.sh "$tmp" >/dev/null
  same_clang=1
  cmp -s playground/examples/CLANG_VERSION "$tmp/CLANG_VERSION" || same_clang=0
  for f in playground/examples/*.o; do
    n="$(basename "$f")"
    if [ ! -e "$tmp/$n" ]; then echo "FAIL $n: committed but not built by the script"; status=1; continue; fi
    if cmp -s "$f" "$tmp/$n"; then echo "ok   $n (byte for byte)"; continue; fi
    if [ "$same_clang" = 1 ]; then
      echo "FAIL $n: differs from a rebuild with the same clang; run playground/examples/build.sh"
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
    [ -e "playground/examples/$(basename "$f")" ] || { echo "FAIL $(basename "$f"): built but not committed"; status=1; }
  done
fi

echo "--- Linux's verdicts on the examples"
if [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null; then
  echo "SKIP kernel verdicts: needs root and bpftool"
else
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
  pindir="/sys/fs/bpf/tsbpf_playground_$$"
  mkdir "$pindir"
  for f in playground/examples/*.o; do
    n="$(basename "$f" .o)"
    # The gallery's promise (playground/src/lib/examples.ts): broken_* are refused.
    case "$n" in broken_*) want=refused ;; *) want=loads ;; esac
    if bpftool prog loadall "$f" "$pindir/$n" >/dev/null 2>&1; then got=loads; else got=refused; fi
    rm -rf "$pindir/$n"
    if [ "$got" = "$want" ]; then echo "ok   $n: Linux $got it"; else echo "FAIL $n: Linux $got it, the gallery says it $want"; status=1; fi
  done
fi

echo "--- build the site and test it in Chromium"
if [ ! -x /usr/bin/chromium ] && [ -z "${TSBPF_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian's package)"
    apt-get install -y -qq chromium >/dev/null || echo "apt-get install chromium failed: the browser test will skip"
  else
    echo "not root or no apt-get: cannot install chromium; the browser test will skip"
  fi
fi
[ -f dist/test/playground-e2e.test.js ] || npm run build
npm run build:playground
node --test dist/test/playground-e2e.test.js || status=1
exit $status
