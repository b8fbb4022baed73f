#!/usr/bin/env bash
# Real programs (issue 14): the corpus of test/real-progs — programs written as tracing tools are
# (flavoured CO-RE types such as task_struct___o, bpf_core_field_exists/type_exists guards,
# kernel-object pointers from tp_btf arguments and bpf_get_current_task_btf, pointer walks) — is
# built from source with clang-19 (Debian's package) as users build it, and each program is
# judged twice, one at a time: by the running kernel (`bpftool -d prog load`, libbpf applying
# CO-RE against /sys/kernel/btf/vmlinux) and by `tsbpf prog load --kernel-btf
# /sys/kernel/btf/vmlinux`. A different verdict fails the suite. A program the kernel cannot load
# for a reason outside its verifier (no log: e.g. fentry on a kernel without trampolines) has no
# verdict and is listed, not compared.
# Needs root, clang-19, bpftool, libbpf-dev and /sys/kernel/btf/vmlinux; skips with the reason otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

source .ci/lib.sh
require_kernel_toolchain bpf_helpers.h
[ -f dist/src/cli/main.js ] || { echo "47-real-programs: dist/ is not built (npm ci / npx tsc -p .)"; exit 1; }

WORK=$(mktemp -d /tmp/tsbpf-47-real.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SRC_DIR="$ROOT/test/real-progs" bash scripts/build-verifier-c.sh "$WORK"
echo "kernel $(uname -r); $(ls "$WORK"/*.o | wc -l) programs built with $(clang-19 --version | head -1)"

agree=0; differ=0; noverdict=0
for o in "$WORK"/*.o; do
  name=$(basename "$o" .o)
  k=$(bash test/real-progs/record.sh --one "$o")
  kv=$(printf '%s' "$k" | sed -n 's/.*"verdict": "\([a-z]*\)".*/\1/p')
  kmsg=$(printf '%s' "$k" | sed -n 's/.*"kernelMessage": \(.*\) }$/\1/p')
  if [ "$kv" = reject ] && [ "$kmsg" = '""' ]; then
    echo "  -    $name: the kernel refused it outside the verifier (no log): no verdict"
    noverdict=$((noverdict + 1)); continue
  fi
  set +e
  t=$(node bin/tsbpf prog load "$o" --kernel-btf /sys/kernel/btf/vmlinux -j 2>/dev/null)
  set -e
  tv=$(printf '%s' "$t" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);const r=Array.isArray(j)?j:[j];process.stdout.write(r.every(x=>x.accepted)?"accept":"reject")}catch{process.stdout.write("crash")}})')
  if [ "$kv" = "$tv" ]; then
    echo "  ok   $name: $kv"; agree=$((agree + 1))
  else
    echo "  FAIL $name: kernel $kv $kmsg, tsbpf $tv: $(printf '%s' "$t" | head -c 300)"; differ=$((differ + 1))
  fi
done
echo "47-real-programs: $agree agree, $differ differ, $noverdict without a kernel verdict"
[ "$differ" = 0 ]
