#!/usr/bin/env bash
# Fixtures: the committed fixtures/*.o must be what scripts/build-fixtures.sh
# builds from fixtures/*.c, and (as root, with bpftool) every fixture that
# libbpf can open must load into the running kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."

source .ci/lib.sh
status=0

echo "--- rebuild and compare"
scripts/compare-objects.sh fixtures scripts/build-fixtures.sh || status=1

echo "--- load into the kernel"
if [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null; then
  echo "SKIP kernel load: needs root and bpftool"
else
  make_pindir fixtures
  pindir=$PINDIR
  for f in fixtures/*.o; do
    n="$(basename "$f" .o)"
    case "$n" in
      *.bpfeb) continue ;; # big-endian objects: for the reader, not this kernel
      # libbpf 1.0+ refuses the legacy "maps" section outright; tsbpf reads it.
      legacy_maps|elf_maps) echo "skip $n: libbpf v1.0+ does not open legacy 'maps' sections"; continue ;;
    esac
    # Maps with LIBBPF_PIN_BY_NAME are pinned by libbpf under /sys/fs/bpf/NAME:
    # remove afterwards exactly the pins this load created.
    before="$(ls /sys/fs/bpf)"
    if out="$(bpftool prog loadall "$f" "$pindir/$n" 2>&1)"; then
      echo "ok   $n: $(ls "$pindir/$n" | tr '\n' ' ')"
    else
      echo "FAIL $n: bpftool prog loadall"; echo "$out" | tail -20; status=1
    fi
    rm -rf "$pindir/$n"
    for p in $(ls /sys/fs/bpf); do
      grep -qxF "$p" <<<"$before" || [ "/sys/fs/bpf/$p" = "$pindir" ] || rm -f "/sys/fs/bpf/$p"
    done
  done
fi
exit $status
