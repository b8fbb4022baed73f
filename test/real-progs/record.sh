#!/usr/bin/env bash
# Record the running kernel's verdict on each program of the real-program corpus
# (test/real-progs/*.o, one program per object) into verdicts.json, as
# `bpftool -d prog load` gives it (libbpf applies CO-RE against /sys/kernel/btf/vmlinux):
# accept, or reject with the verifier's last line. libbpf rewrites the kernel's
# "invalid func unknown#195896080" (a reached poisoned CO-RE instruction) into
# "failed to resolve CO-RE relocation ..."; the kernel's own words are recorded.
# With --check, compare instead and exit 1 on a difference; with --one OBJ, print OBJ's verdict
# (JSON) and nothing else.
# Needs root and bpftool. Usage: test/real-progs/record.sh [--check | --one OBJ]
set -euo pipefail
one=""
if [ "${1:-}" = --one ]; then one=$(realpath "$2"); fi
cd "$(dirname "$0")"
[ "$(id -u)" = 0 ] || { echo "real-progs/record: needs root" >&2; exit 2; }
grep -qs " /sys/fs/bpf bpf " /proc/mounts || mount -t bpf bpf /sys/fs/bpf
pin=/sys/fs/bpf/tsbpf_real_$$
trap 'rm -rf "$pin"' EXIT
verdict() {
  local out rc msg
  set +e
  out=$(bpftool -d prog load "$1" "$pin" 2>&1)
  rc=$?
  set -e
  rm -rf "$pin"
  if [ $rc = 0 ]; then echo '{ "verdict": "accept", "kernelMessage": null }'; return; fi
  # (no line at all: refused before the verifier, e.g. EPERM for lsm programs here; grep finds nothing)
  msg=$(printf '%s\n' "$out" | { grep -v -e '^libbpf: ' -e '^Error' -e '^Warning' -e '^If it used' -e '^processed ' \
    -e '^verification time' -e '^stack depth' -e '^-- END' -e '^$' || true; } | tail -1)
  case "$msg" in "failed to resolve CO-RE relocation "*) msg="invalid func unknown#195896080" ;; esac
  # (a kernel message printed without its newline runs into the statistics: Linux 6.18's
  # "insn N cannot call exception cb directly")
  msg=${msg%verification time * usec}
  printf '{ "verdict": "reject", "kernelMessage": %s }\n' "$(printf '%s' "$msg" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(s)))')"
}
if [ -n "$one" ]; then verdict "$one"; exit 0; fi
if [ "${1:-}" = --check ]; then
  bad=0
  for o in *.o; do
    got=$(verdict "$o" | sed -n 's/.*"verdict": "\([a-z]*\)".*/\1/p')
    want=$(node -e 'const v=require("./verdicts.json").objects[process.argv[1]];process.stdout.write(v?v.verdict:"missing")' "$o")
    if [ "$got" = "$want" ]; then echo "ok   $o: $got"; else echo "FAIL $o: recorded $want, kernel $got"; bad=1; fi
  done
  exit $bad
fi
{
  printf '{\n "kernel": "%s",\n "recordedWith": "bpftool -d prog load OBJ /sys/fs/bpf/PIN",\n "objects": {\n' "$(uname -r)"
  first=1
  for o in *.o; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '  "%s": %s' "$o" "$(verdict "$o")"
  done
  printf '\n }\n}\n'
} > verdicts.json.new
mv verdicts.json.new verdicts.json
echo "real-progs/record: $(grep -c '"verdict"' verdicts.json) programs recorded"
