#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (prepack builds dist/src afresh, without source maps),
# the tarball installed offline into an empty temporary project, then there: the README's library
# example (its first ts snippet, types stripped, nothing else changed), `npx tsbpf --version`,
# `npx tsbpf demo`, and the types: a consumer of `tsbpf/core` type-checks without @types/node
# (`types: []`, skipLibCheck off), one of the Node entries (`tsbpf`, `tsbpf/hooks`) with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
tmp=$(mktemp -d /tmp/tsbpf-pack.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -d node_modules/typescript ] || npm ci --no-audit --no-fund

echo "--- npm pack"
tarball=$(npm pack --silent --pack-destination "$tmp" | tail -n 1)
tar -tzf "$tmp/$tarball" > "$tmp/contents"
echo "$tarball: $(wc -l < "$tmp/contents") files, $(du -k "$tmp/$tarball" | cut -f1) KiB"
fail=0
for f in package/LICENSE package/README.md package/dist/src/index.js package/dist/cli/manifest.json package/dist/src/core.d.ts package/bin/tsbpf package/examples/http_latency.o package/dist/playground-site/index.html; do
  grep -qxF "$f" "$tmp/contents" || { echo "FAIL: $f is not in the package"; fail=1; }
done
if grep -E '\.map$|^package/(src|test|dist/test|dist/bench)/' "$tmp/contents"; then
  echo "FAIL: source maps or sources in the package (above)"; fail=1
fi
[ "$fail" = 0 ] || exit 1

echo "--- install the tarball into an empty project (offline)"
mkdir "$tmp/app"
cd "$tmp/app"
printf '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }\n' > package.json
# --offline: the only dependency, koffi (for tsbpf/kernel), is optional: npm takes it from its
# cache (npm ci filled it) or leaves it out, so nothing but the tarball needs the network.
npm install --offline --no-audit --no-fund "$tmp/$tarball" >/dev/null
[ -x node_modules/.bin/tsbpf ] || { echo "FAIL: no node_modules/.bin/tsbpf"; exit 1; }
[ ! -e node_modules/tsbpf/src ] || { echo "FAIL: the install left sources (a prepare build?)"; exit 1; }

echo "--- the README's library example"
node "$REPO/scripts/snippet.mjs" "$REPO/README.md" 0 > example.mjs
# It opens fixtures/xdp_firewall.o by a relative path: the package ships fixtures/, so run it
# from there (imports resolve from the file's own folder, this project).
(cd node_modules/tsbpf && node "$tmp/app/example.mjs")

echo "--- npx tsbpf"
v="$(npx --offline tsbpf --version)"
echo "tsbpf --version: $(head -1 <<<"$v")"
grep -q '^tsbpf v' <<<"$v" || { echo "FAIL: tsbpf --version printed: $v"; exit 1; }
# the installed command runs the bundle (dist/cli) and leaves its V8 code cache where it is told
TSBPF_COMPILE_CACHE="$tmp/cc" npx --offline tsbpf --version >/dev/null
ls "$tmp"/cc/v8-*/*/main-*.cjs.v8 >/dev/null || { echo "FAIL: npx tsbpf did not run the bundle with its code cache"; exit 1; }
npx --offline tsbpf demo --requests 20 | tail -n 5

echo "--- npx tsbpf playground serves the site the package ships"
# in a session of its own: npx runs the server as a child, and killing npx alone would leave it
# running after the suite; `kill -- -$pg` ends the whole group
setsid npx --offline tsbpf playground --port 0 > playground.out 2>&1 &
pg=$!
site=""
for _ in $(seq 1 50); do
  site="$(grep -o 'http://[^ ]*/' playground.out || true)"
  [ -n "$site" ] && break
  sleep 0.2
done
[ -n "$site" ] || { kill -- -"$pg" 2>/dev/null || true; cat playground.out; echo "FAIL: tsbpf playground did not start"; exit 1; }
page="$(node -e 'fetch(process.argv[1]).then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })' "$site")" || { kill -- -"$pg"; echo "FAIL: GET $site"; exit 1; }
script="$(grep -o 'src="\./assets/[^"]*\.js"' <<<"$page" | head -1 | sed 's/^src="\.\///; s/"$//')"
node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1))' "$site$script" || { kill -- -"$pg"; echo "FAIL: GET $site$script"; exit 1; }
kill -- -"$pg"; wait "$pg" 2>/dev/null || true
echo "ok   tsbpf playground served index.html and $script"

echo "--- types: tsbpf/core without @types/node, the Node entries with it"
TSC=("$REPO/node_modules/.bin/tsc")
cat > core.ts <<'TS'
import { readObject, Runtime, VerifierError } from 'tsbpf/core';
export async function check(bytes: Uint8Array): Promise<number> {
  const rt = new Runtime();
  try {
    const coll = await rt.load(readObject(bytes));
    return coll.program('xdp_firewall').run({ data: new Uint8Array(64) }).retval;
  } catch (e) {
    if (e instanceof VerifierError) return -1;
    throw e;
  } finally {
    rt.close();
  }
}
TS
cat > node.ts <<'TS'
import { Runtime, loadCollectionFile } from 'tsbpf';
import { uprobe, enableProbeHelpers, attachTracepoint } from 'tsbpf/hooks';
const rt = enableProbeHelpers(new Runtime());
const coll = await loadCollectionFile('x.o', rt);
const link = coll.program('on_entry').attach(uprobe({ f: (a: number) => a }, 'f'));
link.detach();
export const t = attachTracepoint;
TS
opts='"target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": false'
# The core is for browsers: DOM's lib (WebAssembly, fetch), no Node types at all; its objects
# have Symbol.dispose, whose type is in ESNext.Disposable (TypeScript 5.2+; @types/node has it too).
# (A failing command joined with && would not stop the script under set -e: each tsc stands alone.)
printf '{ "compilerOptions": { %s, "lib": ["ES2022", "DOM", "ESNext.Disposable"], "types": [] }, "files": ["core.ts"] }\n' "$opts" > tsconfig.core.json
"${TSC[@]}" -p tsconfig.core.json
echo "ok   tsbpf/core type-checks with types: []"
mkdir -p node_modules/@types && ln -s "$REPO/node_modules/@types/node" node_modules/@types/node
# WebAssembly's types are in DOM's lib (@types/node 20 has none), so the Node entries need it too.
printf '{ "compilerOptions": { %s, "lib": ["ES2022", "DOM"], "types": ["node"] }, "files": ["node.ts"] }\n' "$opts" > tsconfig.node.json
"${TSC[@]}" -p tsconfig.node.json
echo "ok   tsbpf and tsbpf/hooks type-check with @types/node"
