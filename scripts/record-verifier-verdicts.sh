#!/usr/bin/env bash
# Record the Linux kernel's verdict on every case of the verifier corpus
# (test/verifier-corpus/*.txt) into test/verifier-corpus/verdicts.json.
#   scripts/record-verifier-verdicts.sh                 record every case
#   scripts/record-verifier-verdicts.sh --only a,b      re-record some cases (others kept)
#   scripts/record-verifier-verdicts.sh --group legacy- re-record the cases of the files legacy-*.txt
#   scripts/record-verifier-verdicts.sh --check         compare the live kernel with the recorded file
# Without --only it also records (or checks) which helpers each program type may call:
# test/verifier-corpus/helper-availability.json.
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
# Unprivileged cases: with kernel.unprivileged_bpf_disabled at 2 (the distro default), Linux
# refuses every load without CAP_BPF before verifying. Root may set 2 back to 0 (only 1 is a
# one-way lock, kernel/bpf/syscall.c bpf_unpriv_handler), so the sysctl is 0 for the run and
# its previous value restored on any exit. Where it cannot be written, the unprivileged cases
# are recorded as 'unpriv: kernel disabled' (record.ts reads the sysctl itself).
sysctl=/proc/sys/kernel/unprivileged_bpf_disabled
prev_unpriv=$(cat "$sysctl" 2>/dev/null || echo '')
restore() {
  if [ -n "$prev_unpriv" ] && [ "$(cat "$sysctl" 2>/dev/null)" != "$prev_unpriv" ]; then
    echo "$prev_unpriv" > "$sysctl" 2>/dev/null ||
      echo "record-verifier-verdicts: could not restore $sysctl to $prev_unpriv" >&2
  fi
  rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 130' INT TERM
if [ -n "$prev_unpriv" ] && [ "$prev_unpriv" != 0 ]; then
  if (echo 0 > "$sysctl") 2>/dev/null; then
    echo "record-verifier-verdicts: kernel.unprivileged_bpf_disabled $prev_unpriv -> 0 for the unprivileged loads (restored on exit)"
  else
    echo "record-verifier-verdicts: kernel.unprivileged_bpf_disabled is $prev_unpriv and cannot be set to 0 (1 is a one-way lock): unprivileged cases stay 'unpriv: kernel disabled'"
  fi
fi
gcc -O2 -Wall -o "$tmp/kloader" test/verifier-corpus/kloader.c -lbpf
npx tsc -p . >/dev/null || true   # emits even when someone else's file has type errors
node dist/test/verifier-corpus/record.js --kloader "$tmp/kloader" "$mode" ${args[@]+"${args[@]}"}
# Which helpers each program type may call (the helper catalog's program types, src/uapi/helpers.ts).
if [ ${#args[@]} = 0 ]; then
  node dist/test/verifier-corpus/helper-availability.js --kloader "$tmp/kloader" "$mode"
fi
