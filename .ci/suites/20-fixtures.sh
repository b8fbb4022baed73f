#!/usr/bin/env bash
# Fixtures: the committed fixtures/*.o must be what scripts/build-fixtures.sh
# builds from fixtures/*.c, and (as root, with bpftool) every fixture that
# libbpf can open must load into the running kernel.
set -euo pipefail
cd "$(dirname "$0")/../.."

status=0
tmp="$(mktemp -d)"
pindir=""
cleanup() {
  [ -n "$pindir" ] && rm -rf "$pindir"
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "--- rebuild and compare"
if ! command -v clang-19 >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "SKIP rebuild: clang-19 or libbpf-dev headers missing (apt-get install -y clang-19 libbpf-dev)"
else
  scripts/build-fixtures.sh "$tmp" >/dev/null
  same_clang=1
  cmp -s fixtures/CLANG_VERSION "$tmp/CLANG_VERSION" || same_clang=0
  for f in fixtures/*.o; do
    n="$(basename "$f")"
    if [ ! -e "$tmp/$n" ]; then echo "FAIL $n: committed but not built by the script"; status=1; continue; fi
    if cmp -s "$f" "$tmp/$n"; then echo "ok   $n (byte for byte)"; continue; fi
    if [ "$same_clang" = 1 ]; then
      echo "FAIL $n: differs from a rebuild with the same clang ($(cat "$tmp/CLANG_VERSION")); run scripts/build-fixtures.sh"
      status=1
    elif command -v llvm-objdump-19 >/dev/null &&
      diff <(llvm-objdump-19 -d -r --no-show-raw-insn "$f" | tail -n +3) \
           <(llvm-objdump-19 -d -r --no-show-raw-insn "$tmp/$n" | tail -n +3) >/dev/null; then
      # Another clang build writes its own version string into DWARF and
      # .comment; the code and relocations are what must not change.
      echo "ok   $n (same code and relocations; clang differs: $(cat "$tmp/CLANG_VERSION"))"
    else
      echo "FAIL $n: code differs from a rebuild with $(cat "$tmp/CLANG_VERSION")"
      status=1
    fi
  done
  for f in "$tmp"/*.o; do
    [ -e "fixtures/$(basename "$f")" ] || { echo "FAIL $(basename "$f"): built but not committed"; status=1; }
  done
fi

echo "--- load into the kernel"
if [ "$(id -u)" != 0 ] || ! command -v bpftool >/dev/null; then
  echo "SKIP kernel load: needs root and bpftool"
else
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
  # bpffs refuses names containing a dot (so no mktemp)
  pindir="/sys/fs/bpf/tsbpf_fixtures_$$"
  mkdir "$pindir"
  for f in fixtures/*.o; do
    n="$(basename "$f" .o)"
    case "$n" in
      *.bpfeb) continue ;; # big-endian objects: for the reader, not this kernel
      # libbpf 1.0+ refuses the legacy "maps" section outright; tsbpf reads it.
      legacy_maps) echo "skip $n: libbpf v1.0+ does not open legacy 'maps' sections"; continue ;;
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
