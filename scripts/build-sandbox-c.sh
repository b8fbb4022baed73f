#!/usr/bin/env bash
# Build the sandbox tests' C programs (test/sandbox-c/*.c: objects Linux
# refuses for safety, and their controls) into BPF objects next to them, as
# the verifier corpus's are built. The .o files are committed so the tests
# run where clang is missing; they are not fixtures, since every fixture
# must load into Linux.
#   scripts/build-sandbox-c.sh [OUTDIR]     (default: test/sandbox-c)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
SRC_DIR="$root/test/sandbox-c" exec "$root/scripts/build-verifier-c.sh" "$@"
