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

source .ci/lib.sh
status=0

echo "--- rebuild the examples and compare"
scripts/compare-objects.sh playground/examples playground/examples/build.sh || status=1

echo "--- Linux's verdicts on the examples"
if [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null; then
  echo "SKIP kernel verdicts: needs root and bpftool"
else
  make_pindir playground
  pindir=$PINDIR
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
node scripts/run-tests.mjs dist/test/playground-e2e.test.js || status=1
exit $status
