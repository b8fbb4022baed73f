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
#
# Two recordings at once must not interleave: the second would save the first's 0 as "the
# previous value" and restore 0 after the first restored 2. So the whole run holds an exclusive
# lock (flock(1) on $lock; a second recording waits for the first), and the value to restore is
# kept in $saved while the sysctl is lowered: a run that died without restoring (SIGKILL, power)
# left that file, and the next run restores from it rather than from the 0 it finds.
sysctl=/proc/sys/kernel/unprivileged_bpf_disabled
lockdir=/run/lock
[ -d "$lockdir" ] && [ -w "$lockdir" ] || lockdir=/tmp
lock=$lockdir/tsbpf-unprivileged-bpf.lock
saved=$lockdir/tsbpf-unprivileged-bpf.saved
exec 9>"$lock"
if ! flock -n 9; then
  echo "record-verifier-verdicts: another recording holds $lock; waiting for it"
  flock 9
fi
prev_unpriv=$(cat "$sysctl" 2>/dev/null || echo '')
if [ -s "$saved" ]; then
  prev_unpriv=$(cat "$saved")
  echo "record-verifier-verdicts: an earlier run left kernel.unprivileged_bpf_disabled lowered; its saved value $prev_unpriv is restored on exit"
fi
restore() {
  if [ -n "$prev_unpriv" ] && [ "$(cat "$sysctl" 2>/dev/null)" != "$prev_unpriv" ]; then
    if echo "$prev_unpriv" > "$sysctl" 2>/dev/null; then
      rm -f "$saved"
    else
      echo "record-verifier-verdicts: could not restore $sysctl to $prev_unpriv" >&2
    fi
  else
    rm -f "$saved"
  fi
  rm -rf "$tmp"
}
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
if [ -n "$prev_unpriv" ] && [ "$prev_unpriv" != 0 ]; then
  echo "$prev_unpriv" > "$saved"
  if (echo 0 > "$sysctl") 2>/dev/null; then
    echo "record-verifier-verdicts: kernel.unprivileged_bpf_disabled $prev_unpriv -> 0 for the unprivileged loads (restored on exit)"
  else
    rm -f "$saved"
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
