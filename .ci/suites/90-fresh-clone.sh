#!/usr/bin/env bash
# The README's test command on a fresh clone with nothing beside it (issue 12): the committed
# tree is cloned into a temporary folder (no ../shared, so no conformance suite), and
# `npm ci && npm test` runs there -- as the unprivileged user `nobody` when CI is root (so the
# suites needing root skip), with clang, llvm and bpftool hidden from PATH (so the suites needing
# them skip). Every test must pass or skip with its reason. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
work=$(mktemp -d /tmp/tsbpf-fresh.XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$REPO" "$work/tsbpf"
echo "cloned $(git -C "$work/tsbpf" rev-parse --short HEAD) into $work/tsbpf; beside it: $(ls "$work" | tr '\n' ' ')"

# PATH without the tools that some suites need: symlinks to everything else.
mkdir "$work/bin" "$work/home"
for d in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    b=$(basename "$f")
    case "$b" in clang* | llc* | llvm-* | bpftool* | ld.lld*) continue ;; esac
    [ -e "$work/bin/$b" ] || ln -s "$f" "$work/bin/$b"
  done
done

run=()
if [ "$(id -u)" = 0 ]; then
  if command -v runuser >/dev/null; then
    chown -R nobody "$work"
    run=(runuser -u nobody --)
    echo "as user nobody (not root)"
  else
    echo "as root (runuser missing): the suites needing root run"
  fi
fi
cd "$work/tsbpf"
set +e
"${run[@]}" env -i HOME="$work/home" PATH="$work/bin" npm_config_cache="$work/home/.npm" \
  bash -c 'if command -v clang-19; then echo "clang-19 is still on PATH"; exit 1; fi; npm ci --no-audit --no-fund && npm test' >"$work/test.log" 2>&1
status=$?
set -e
echo "--- skipped, with their reasons"
grep -E '^ *﹣ ' "$work/test.log" | sed -E 's/ \([0-9.]+ms\)//' || true
echo "--- summary"
grep -E '^ℹ (tests|pass|fail|skipped)' "$work/test.log" || tail -n 30 "$work/test.log"
if [ "$status" != 0 ]; then
  echo "90-fresh-clone: npm ci && npm test failed on the fresh clone (exit $status); the failures:"
  sed -n '/^✖ failing tests:/,$p' "$work/test.log" | head -200
  exit 1
fi
echo "90-fresh-clone: npm ci && npm test pass on a fresh clone with nothing beside it"
