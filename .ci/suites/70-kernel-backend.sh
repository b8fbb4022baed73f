#!/usr/bin/env bash
# The kernel backend (tsbpf/kernel): npm test already runs test/kernel-*.test.ts,
# which load, run, attach and list against the running kernel as root (and skip,
# saying why, elsewhere). Here: koffi loads, the committed examples/kernel objects
# match a fresh clang build, and each example runs as a user would.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/src/kernel/index.js ] || npm run build

node -e "import('koffi').then(k => console.log('koffi', (k.default ?? k).version))"

if [ "$(id -u)" != 0 ]; then
  echo "skip: not root (the kernel backend needs CAP_BPF)"
  exit 0
fi

if command -v "${CLANG:-clang-19}" >/dev/null && [ -e /usr/include/bpf/bpf_helpers.h ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  scripts/build-examples.sh "$tmp" >/dev/null
  for o in examples/kernel/*.o; do
    cmp -s "$o" "$tmp/kernel/$(basename "$o")" || { echo "examples: $o differs from a fresh build (run scripts/build-examples.sh and commit)" >&2; exit 1; }
  done
  echo "examples/kernel: committed objects match a fresh clang build"
fi

echo "--- node examples/kernel/syscount.mjs --seconds 1"
out="$(node examples/kernel/syscount.mjs --seconds 1)"
printf '%s\n' "$out" | sed -n 1,8p
echo "--- tsbpf btf show (the kernel's BTF objects)"
out="$(node bin/tsbpf btf show)"
printf '%s\n' "$out" | sed -n 1,3p

# a tc program that rewrites packets, on tcx egress of a veth pair whose far end
# is in a network namespace, checked against the user-space runtime
if command -v ip >/dev/null; then
  ns="tsk3-ci$$"; dev="tsk3-c$(( $$ % 100000 ))"
  cleanup_net() { ip link del "$dev" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; }
  trap 'cleanup_net; rm -rf "${tmp:-}"' EXIT
  ip netns add "$ns"
  ip link add "$dev" type veth peer name eth0 netns "$ns"
  ip addr add 10.214.0.1/30 dev "$dev"; ip link set "$dev" up
  ip -n "$ns" addr add 10.214.0.2/30 dev eth0; ip -n "$ns" link set eth0 up
  echo "--- node examples/kernel/tc_rewrite.mjs $dev --to 10.214.0.2"
  node examples/kernel/tc_rewrite.mjs "$dev" --to 10.214.0.2 --count 3
  cleanup_net
else
  echo "skip tc_rewrite: iproute2 (ip) is not installed"
fi
