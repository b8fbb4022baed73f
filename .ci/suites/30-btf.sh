#!/usr/bin/env bash
# BTF: the committed test/fixtures-btf objects (and the bpftool dumps recorded
# beside them) must be what build.sh makes from the C sources; then a longer
# BTF fuzz run with other seeds than the unit test's.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "--- rebuild test/fixtures-btf and compare"
if ! command -v clang-19 >/dev/null || [ ! -e /usr/include/bpf/bpf_helpers.h ]; then
  echo "SKIP rebuild: clang-19 or libbpf-dev headers missing (apt-get install -y clang-19 libbpf-dev)"
else
  cp test/fixtures-btf/*.c test/fixtures-btf/build.sh "$tmp/"
  bash "$tmp/build.sh" >/dev/null
  for f in test/fixtures-btf/*.o test/fixtures-btf/*.txt; do
    n="$(basename "$f")"
    case "$n" in *.mixed-dump.txt) continue ;; esac # recorded from a live map, not by build.sh
    if [ ! -e "$tmp/$n" ]; then
      # no bpftool here: the recorded dumps were not regenerated
      case "$n" in *.txt) echo "skip $n (bpftool missing)"; continue ;; esac
      echo "FAIL $n: committed but not built by build.sh"; status=1; continue
    fi
    if cmp -s "$f" "$tmp/$n"; then echo "ok   $n"; continue; fi
    case "$n" in
      *.o)
        # another clang build writes its own version string into DWARF and
        # .comment; the BTF (what these fixtures are for) must not change
        if command -v llvm-objcopy-19 >/dev/null &&
           cmp -s <(llvm-objcopy-19 -O binary --only-section=.BTF "$f" /dev/stdout) \
                  <(llvm-objcopy-19 -O binary --only-section=.BTF "$tmp/$n" /dev/stdout); then
          echo "ok   $n (same .BTF; other bytes differ: another clang build?)"
        else
          echo "FAIL $n: differs from a rebuild; run test/fixtures-btf/build.sh"; status=1
        fi ;;
      *) echo "FAIL $n: bpftool's dump differs from the recorded one; run test/fixtures-btf/build.sh"; status=1 ;;
    esac
  done
fi

echo "--- BTF fuzz, longer run"
npx tsc -p tsconfig.json >/dev/null || true
for seed in 1 2; do
  TSBPF_FUZZ_SEED=$seed TSBPF_FUZZ_ITERATIONS=10000 node scripts/run-tests.mjs dist/test/btf-fuzz.test.js >"$tmp/fuzz.log" 2>&1 \
    && echo "ok   fuzz seed $seed (10000 iterations)" \
    || { echo "FAIL fuzz seed $seed"; tail -40 "$tmp/fuzz.log"; status=1; }
done
exit $status
