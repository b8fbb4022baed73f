#!/usr/bin/env bash
# List the exports of src/ that nothing outside their own file names (issue 13, part 7): the
# sources, tests, benchmarks, examples, playground, bin/ scripts and docs are searched by word.
# Each row: FILE NAME uses-in-file=N. N=1 is dead code (defined, used nowhere); N>1 is an export
# only its own file uses -- often a type of an exported signature, which must stay exported.
# Slow-ish (a grep per export, a minute or two); not part of npm test.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files 'src/*.ts' 'test/*.ts' 'bench/*.ts' 'examples/*' 'playground/*' 'scripts/*' 'bin/*' 'docs/*.md' 'README.md')
exports() { grep -oE '^export (async )?(function\*?|const|class|interface|type|let|enum|abstract class) [A-Za-z_$][A-Za-z0-9_$]*' "$1" | awk '{print $NF}' || true; }
git ls-files 'src/*.ts' | while read -r f; do
  exports "$f" | while read -r n; do
    if ! grep -qlw -- "$n" "${files[@]/#$f/}" 2>/dev/null; then
      echo "$f $n uses-in-file=$(grep -cw -- "$n" "$f")"
    fi
  done
done
