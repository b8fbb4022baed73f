#!/usr/bin/env bash
# tsbpf's core in a real browser: headless Chromium imports dist/src/core.js
# from a local server, loads fixtures through the verifier and the JIT, runs
# them, on the main thread and in a module worker, and the results must equal
# Node's (test/browser-core.test.ts).
#
# On a fresh CI machine Chromium is not there when `npm test` runs (the test
# then skips with a printed reason); this suite installs it and runs the test,
# so it runs once with Chromium present. TSBPF_CHROMIUM points at another
# Chromium/Chrome binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive

have_chromium() {
  [ -n "${TSBPF_CHROMIUM:-}" ] && [ -x "$TSBPF_CHROMIUM" ] && return 0
  [ -x /usr/bin/chromium ] && return 0
  command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || command -v google-chrome-stable >/dev/null
}

if ! have_chromium; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium (Debian's package)"
    apt-get install -y -qq chromium >/dev/null || echo "apt-get install chromium failed: browser test will skip"
  else
    echo "not root or no apt-get: cannot install chromium; browser test will skip"
  fi
fi
have_chromium && { "${TSBPF_CHROMIUM:-chromium}" --version 2>/dev/null | grep -v 'unexpected operator' || true; }

[ -f dist/test/browser-core.test.js ] || npm run build
# Without Chromium the test prints why it skips.
node scripts/run-tests.mjs dist/test/browser-core.test.js
