#!/usr/bin/env bash
# Record the Linux kernel's verdict on every case of the verifier corpus
# (test/verifier-corpus/*.txt) into test/verifier-corpus/verdicts.json.
#   scripts/record-verifier-verdicts.sh                 record every case
#   scripts/record-verifier-verdicts.sh --only a,b      re-record some cases (others kept)
#   scripts/record-verifier-verdicts.sh --check         compare the live kernel with the recorded file
# Needs root (bpf(2) program loads), gcc and libbpf-dev (kloader.c is built into a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=--write
args=()
for a in "$@"; do
  case "$a" in --check) mode=--check ;; --write) mode=--write ;; *) args+=("$a") ;; esac
done

[ "$(id -u)" = 0 ] || { echo "record-verifier-verdicts: needs root to load programs" >&2; exit 2; }
command -v gcc >/dev/null || { echo "record-verifier-verdicts: gcc is not installed" >&2; exit 2; }
[ -f /usr/include/bpf/bpf.h ] || { echo "record-verifier-verdicts: libbpf-dev is not installed" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -Wall -o "$tmp/kloader" test/verifier-corpus/kloader.c -lbpf
npx tsc -p . >/dev/null || true   # emits even when someone else's file has type errors
node dist/test/verifier-corpus/record.js --kloader "$tmp/kloader" "$mode" ${args[@]+"${args[@]}"}
