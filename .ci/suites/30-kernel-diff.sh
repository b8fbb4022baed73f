#!/usr/bin/env bash
# Differential suite against Linux (issue 4, part 7): every fixture is loaded into the kernel with
# bpftool and run with `bpftool prog run` on a packet set; return values, output packets and map
# contents must match tsbpf's (interpreter and JIT). Then the same comparison at the CLI level:
# `tsbpf prog run -j` against `bpftool prog run -j`. Needs root, bpftool and bpffs; skips otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."

skip() { echo "30-kernel-diff: skipped: $*"; exit 0; }
[ "$(uname -s)" = Linux ] || skip "not Linux"
[ "$(id -u)" = 0 ] || skip "not root"
command -v bpftool >/dev/null || skip "bpftool is not installed"
command -v taskset >/dev/null || skip "taskset is not installed"
if ! grep -qs ' /sys/fs/bpf bpf ' /proc/mounts; then
  mount -t bpf bpf /sys/fs/bpf 2>/dev/null || skip "bpffs is not mounted and cannot be mounted"
fi
[ -f dist/test/runtime-kernel.test.js ] || npx tsc -p .

echo "kernel $(uname -r); $(bpftool version | head -1)"
node scripts/run-tests.mjs dist/test/runtime-kernel.test.js dist/test/helpers-kernel.test.js

# CLI level: one run of each XDP / tc / socket program on an IPv4/UDP packet.
tmp=$(mktemp -d)
pin=/sys/fs/bpf/tsbpf-ci-$$
cleanup() { rm -rf "$tmp" "$pin" "$pin-maps"; }
trap cleanup EXIT
node -e '
  const p = new Uint8Array(64);
  p.set([2,0,0,0,0,2, 2,0,0,0,0,1, 8,0], 0);
  p.set([0x45,0,0,50, 0,0,0x40,0, 64,17,0,0, 10,0,0,1, 10,0,0,2, 0x9c,0x40,0,53, 0,30,0,0], 14);
  require("fs").writeFileSync(process.argv[1], p);' "$tmp/pkt"
fail=0
for obj in xdp_firewall tc_rewrite socket_filter global_data bpf2bpf tail_call map_in_map lpm_trie bpf_loop; do
  bpftool prog loadall "fixtures/$obj.o" "$pin" pinmaps "$pin-maps" >/dev/null
  for prog in "$pin"/*; do
    name=$(basename "$prog")
    type=$(bpftool -j prog show pinned "$prog" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).type))')
    case "$type" in xdp|sched_cls|socket_filter) ;; *) continue ;; esac
    k=$(bpftool -j prog run pinned "$prog" data_in "$tmp/pkt" data_out "$tmp/k.out" repeat 1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).retval))') || k=error
    for engine in --interpret --jit; do
      t=$(node bin/tsbpf prog run "fixtures/$obj.o" "$name" --data-in "$tmp/pkt" --data-out "$tmp/t.out" $engine -j | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).retval))') || t=error
      if [ "$k" = "$t" ] && cmp -s "$tmp/k.out" "$tmp/t.out"; then
        echo "ok   $obj/$name ($type, ${engine#--}): retval $t, output packets equal"
      else
        echo "FAIL $obj/$name ($type, ${engine#--}): kernel retval $k, tsbpf retval $t"; fail=1
      fi
    done
  done
  rm -rf "$pin" "$pin-maps"
done
exit $fail
