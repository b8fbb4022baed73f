#!/usr/bin/env bash
# Record the kernel's verdict on each C program of the corpus (test/verifier-corpus/c/*.o)
# into c/verdicts.json, as `bpftool -d prog loadall` gives it: accept when every program of
# the object loads; else reject, with the last line of the verifier log.
# Needs root and bpftool. Usage: test/verifier-corpus/record-c.sh
set -euo pipefail
cd "$(dirname "$0")/c"
[ "$(id -u)" = 0 ] || { echo "record-c: needs root" >&2; exit 2; }
grep -qs " /sys/fs/bpf bpf " /proc/mounts || mount -t bpf bpf /sys/fs/bpf
pin=/sys/fs/bpf/tsbpf_record_c_$$
trap 'rm -rf "$pin"' EXIT
{
  printf '{\n "kernel": "%s",\n "recordedWith": "bpftool -d prog loadall OBJ /sys/fs/bpf/PIN",\n "objects": {\n' "$(uname -r)"
  first=1
  for o in *.o; do
    set +e
    out=$(bpftool -d prog loadall "$o" "$pin" 2>&1)
    rc=$?
    set -e
    rm -rf "$pin"
    if [ $rc = 0 ]; then entry="{ \"verdict\": \"accept\", \"kernelMessage\": null }"
    else
      msg=$(printf '%s\n' "$out" | grep -v -e '^libbpf: ' -e '^Error' -e '^Warning' -e '^If it used' -e '^processed ' \
        -e '^verification time' -e '^stack depth' -e '^-- END' -e '^$' | tail -1)
      entry="{ \"verdict\": \"reject\", \"kernelMessage\": $(printf '%s' "$msg" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(s)))') }"
    fi
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '  "%s": %s' "$o" "$entry"
  done
  printf '\n }\n}\n'
} > verdicts.json.new
mv verdicts.json.new verdicts.json
echo "record-c: $(grep -c '"verdict"' verdicts.json) objects recorded"
