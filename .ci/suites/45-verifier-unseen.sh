#!/usr/bin/env bash
# tsbpf's verifier beside Linux's on clang-19 objects the project has never seen (issue 5, "Done
# when"): the kernel's own BPF selftests (tools/testing/selftests/bpf/progs of Debian's
# linux-source-6.12) are built here with clang-19 — every progs/verifier_*.c (each program
# annotated __success/__failure) plus a fixed sample of the other progs — and every program is
# loaded into the running kernel (test/verifier-unseen/oloader.c, libbpf) and verified by tsbpf
# twice: against the kernel-BTF subset tsbpf ships (what the browser and a machine without
# /sys/kernel/btf get) and against the running kernel's /sys/kernel/btf/vmlinux (what a user's
# `--kernel-btf` gives); the kernel's verdict is taken once. The outcome table has a column per
# mode, and the unsupported reasons and disagreements are listed per mode.
# test/verifier-unseen.test.ts fails on a tsbpf crash or a DISAGREE in either mode (a program the
# kernel's verifier rejects that tsbpf accepts, beyond its short known list, or the other way);
# programs the kernel cannot load for
# reasons outside the verifier (attach targets, ksyms, map types of another kernel version), or
# refuses before its verifier walks them (a log of statistics alone, "processed 0 insns": iterator
# targets or struct_ops modules this kernel lacks), are "kernel-load-error" rows, not failures, so another kernel version in CI does not fail it.
# Needs root, /sys/kernel/btf/vmlinux, clang-19, bpftool, libbpf-dev and the linux-source-6.12
# package; skips with the reason where one is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
start=$SECONDS

source .ci/lib.sh
require_kernel_toolchain bpf.h bpf_helper_defs.h
[ -f dist/test/verifier-unseen.test.js ] || { echo "45-verifier-unseen: dist/ is not built (npm ci / npx tsc -p .)"; exit 1; }

TARBALL=/usr/src/linux-source-6.12.tar.xz
if [ ! -f "$TARBALL" ]; then
  command -v apt-get >/dev/null || skip "linux-source-6.12 is not installed and there is no apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-source-6.12 >/dev/null 2>&1 || true
  [ -f "$TARBALL" ] || skip "linux-source-6.12 is not installable here ($(apt-cache policy linux-source-6.12 2>/dev/null | awk '/Candidate/{print "candidate " $2}'))"
fi

WORK=$(mktemp -d /tmp/tsbpf-45-unseen.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/linux-source-6.12
OUT=$WORK/objects
mkdir -p "$OUT"
: > "$WORK/failed"

# Only the selftests' BPF side and the headers it includes: progs/, the selftests' own headers
# (bpf_misc.h, bpf_experimental.h, bpf_testmod/*.h, ...), libbpf's BPF-side headers (bpf_helpers.h,
# bpf_tracing.h, ...) and tools/include (progs include tools/include/linux/filter.h). GNU tar's
# wildcards match '/' too, so 'bpf/*.h' also takes bpf_testmod/ and prog_tests/ headers.
echo "extracting the BPF selftests from $TARBALL"
tar -xJf "$TARBALL" -C "$WORK" --wildcards \
  'linux-source-6.12/tools/testing/selftests/bpf/progs/*' \
  'linux-source-6.12/tools/testing/selftests/bpf/*.h' \
  'linux-source-6.12/tools/lib/bpf/*.h' \
  'linux-source-6.12/tools/include/*'
PROGS=$SRC/tools/testing/selftests/bpf/progs
[ -d "$PROGS" ] || { echo "45-verifier-unseen: $PROGS missing after extraction"; exit 1; }

# bpf_helper_defs.h is generated in the kernel tree (scripts/bpf_doc.py over include/uapi/linux/bpf.h);
# we take libbpf-dev's copy instead: it needs no python and no uapi header from the tarball, and the
# helper list has been frozen since 6.2 (ids up to 211, cgrp_storage_delete), which libbpf 1.1's
# copy already has — so the 6.12 progs see every helper they call. Placed beside the tarball's
# bpf_helpers.h, which includes it by its bare name.
cp /usr/include/bpf/bpf_helper_defs.h "$SRC/tools/lib/bpf/"
# The running kernel's types, as the selftests' Makefile makes vmlinux.h (CO-RE relocations are
# resolved against this same kernel at load time).
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$WORK/vmlinux.h"

case "$(uname -m)" in
  x86_64) ARCH=x86 ;; aarch64) ARCH=arm64 ;; s390x) ARCH=s390 ;; ppc64le) ARCH=powerpc ;; *) ARCH=$(uname -m) ;;
esac
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")

# Which sources: every verifier_*.c, and every 4th of the other progs in C-locale order (a fixed
# sample that keeps the suite within a few minutes on a 2-core machine).
cd "$PROGS"
LC_ALL=C ls verifier_*.c > "$WORK/list"
LC_ALL=C ls *.c | grep -v '^verifier_' | awk 'NR % 4 == 1' >> "$WORK/list"
total=$(wc -l < "$WORK/list")
echo "compiling $total progs with clang-19 ($(nproc) jobs)"
export WORK OUT ARCH MULTIARCH SRC
# The selftests Makefile's essential BPF flags: -O2 -g --target=bpfel, the arch define, vmlinux.h,
# libbpf's headers, and the tarball's tools/include/uapi before the system's (linux-libc-dev is 6.1:
# its linux/bpf.h lacks TCX_DROP, BPF_JCOND, ...; it also resolves the progs' include of
# <../../../tools/include/linux/filter.h>, as the Makefile's -I$(APIDIR) does). A file that does
# not compile is skipped and counted (find_vma.c and profiler2.c use 6.12 struct fields the
# running kernel's vmlinux.h may not have).
compile_start=$SECONDS
# On a terminal, a progress line (files compiled or failed so far) while clang runs; quiet in logs.
ticker=""
if [ -t 2 ]; then
  ( while sleep 1; do
      printf '\r\033[2Kcompiling: %d of %d files, %ds' "$(( $(find "$OUT" -name '*.o' | wc -l) + $(wc -l < "$WORK/failed") ))" "$total" "$((SECONDS - compile_start))" >&2
    done ) &
  ticker=$!
fi
xargs -P"$(nproc)" -I{} sh -c '
  f={}; o="$OUT/${f%.c}.o"
  if ! timeout 120 nice clang-19 -O2 -g -target bpfel -D__TARGET_ARCH_$ARCH -I"$WORK" -I"$SRC/tools/lib" \
      -I"$SRC/tools/include/uapi" -I.. -I/usr/include/$MULTIARCH -Wno-everything -c "$f" -o "$o" 2>/dev/null; then
    rm -f "$o"; echo "$f" >> "$WORK/failed"
  fi' < "$WORK/list"
[ -z "$ticker" ] || { kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true; printf '\r\033[2K' >&2; }
cd "$ROOT"
built=$(find "$OUT" -name '*.o' | wc -l)
failed=$(wc -l < "$WORK/failed")
echo "built $built of $total objects in $((SECONDS - compile_start))s; $failed did not compile (skipped):"
[ "$failed" = 0 ] || LC_ALL=C sort "$WORK/failed" | tr '\n' ' ' | fold -s -w 120 | sed 's/^/  /'
echo
[ "$built" -gt 0 ] || { echo "45-verifier-unseen: no object compiled"; exit 1; }

# TMPDIR: the harness's loader build and its kernel-verdict cache go into the temp dir, so every
# run loads every program afresh (and leaves nothing behind).
run_start=$SECONDS
rc=0
# On a terminal the test shows a progress line (objects done) on /dev/tty; in CI logs nothing.
progress=0
[ -t 2 ] && progress=1
TMPDIR=$WORK TSBPF_UNSEEN_OBJECTS=$OUT TSBPF_PROGRESS=$progress TSBPF_TEST_FILE_TIMEOUT=14400 node scripts/run-tests.mjs dist/test/verifier-unseen.test.js || rc=$?
echo "verdicts compared in $((SECONDS - run_start))s; suite took $((SECONDS - start))s"
exit "$rc"
