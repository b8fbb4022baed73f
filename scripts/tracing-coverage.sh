#!/usr/bin/env bash
# Measure issue 16's "done when" on the public tracing collections: build
# bcc's libbpf-tools and libbpf-bootstrap's examples with clang-19 against a
# vmlinux.h of the running kernel, then run every tracing program the
# verifier accepts once under the test kit (scripts/tracing-coverage.mjs),
# as `tsbpf prog run OBJ PROG --kernel-btf BTF` does, in both engines.
#
#   scripts/tracing-coverage.sh BCC_LIBBPF_TOOLS_DIR LIBBPF_BOOTSTRAP_EXAMPLES_C_DIR [LIBBPF_SRC_DIR] [-j]
#
# The checkouts are yours (nothing is fetched or kept in the repository):
# e.g. `git clone https://github.com/iovisor/bcc` gives bcc/libbpf-tools,
# `git clone https://github.com/libbpf/libbpf-bootstrap` gives examples/c,
# and `git clone https://github.com/libbpf/libbpf` gives src/ with headers
# newer than Debian's libbpf-dev (BPF_UPROBE, bpf_ksym_exists); without it
# the system's <bpf/...> headers are used and a few tools do not build.
# Objects are built in a temporary directory, removed at the end.
# Needs clang-19, bpftool, /sys/kernel/btf/vmlinux and a built dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 2 ] || { sed -n '2,20p' "$0" >&2; exit 2; }
tools="$1"; lbb="$2"; shift 2
libbpf=""; json=""
for a in "$@"; do case "$a" in -j) json=-j ;; *) libbpf="$a" ;; esac; done
BTF=/sys/kernel/btf/vmlinux
CLANG="${CLANG:-clang-19}"
command -v "$CLANG" >/dev/null || { echo "tracing-coverage: $CLANG not found" >&2; exit 1; }
command -v bpftool >/dev/null || { echo "tracing-coverage: bpftool not found" >&2; exit 1; }
[ -r "$BTF" ] || { echo "tracing-coverage: no $BTF" >&2; exit 1; }
[ -e "$root/dist/src/testing/index.js" ] || { echo "tracing-coverage: build first (npx tsc -p tsconfig.json)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/inc" "$work/obj" "$work/libbpf/bpf"
# with the kfunc prototypes bcc's own vmlinux.h has (bpftool >= 7.5 prints them; Debian's 7.1 does
# not): sigsnoop calls bpf_task_from_pid without declaring it
node "$root/bin/tsbpf" btf dump "$BTF" format c --kfuncs > "$work/inc/vmlinux.h"
inc=(-I"$work/inc")
if [ -n "$libbpf" ]; then
  for h in bpf_helpers.h bpf_helper_defs.h bpf_tracing.h bpf_core_read.h bpf_endian.h usdt.bpf.h; do cp "$libbpf/$h" "$work/libbpf/bpf/"; done
  inc+=(-I"$work/libbpf")
fi
arch="$(uname -m)"; target=x86; [ "$arch" = aarch64 ] && target=arm64
failed=0
build() { # SRC NAME: the tools' own directory first for their headers, but our vmlinux.h (theirs is a per-arch link)
  if ! "$CLANG" -g -O2 -target bpf -D__TARGET_ARCH_$target "${inc[@]}" -idirafter "$(dirname "$1")" -I/usr/include/$arch-linux-gnu -c "$1" -o "$work/obj/$2.o" 2>"$work/obj/$2.err"; then
    echo "build failed: $2: $(grep -m1 error: "$work/obj/$2.err" || true)" >&2
    failed=$((failed + 1))
  fi
}
for f in "$tools"/*.bpf.c; do build "$f" "bcc-$(basename "$f" .bpf.c)"; done
for f in "$lbb"/*.bpf.c; do build "$f" "lbb-$(basename "$f" .bpf.c)"; done
echo "built $(ls "$work"/obj/*.o | wc -l) objects ($failed failed to build)" >&2
node "$root/scripts/tracing-coverage.mjs" --kernel-btf "$BTF" $json "$work"/obj/*.o
