/**
 * An export of src/ is there for another file (issue 13, part 7): a function, constant or
 * class that only its own file names is not exported. Types and interfaces may stay
 * exported (an exported signature's types must be nameable), and so may whole catalogs
 * re-exported with `export *` (the public barrels), the UAPI constants in src/uapi and the
 * ELF constants, which list the format whether or not tsbpf reads every entry.
 * Other files are searched by word: sources, tests, benchmarks, examples, the playground,
 * scripts, bin/ and the docs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './paths.js';

const SEARCHED = ['src', 'test', 'bench', 'examples', 'playground', 'scripts', 'bin', 'docs', 'README.md'];
const TEXT = /\.(ts|mts|mjs|js|md|c|h|json|html)$|^bin\//;
const CATALOGS = [/^src\/uapi\//, /^src\/object\/elf\.ts$/];

function walk(path: string, out: string[]): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isFile()) {
    const rel = relative(ROOT, path);
    if (TEXT.test(rel)) out.push(rel);
    return;
  }
  for (const e of readdirSync(path)) if (e !== 'node_modules' && e !== 'dist' && !e.startsWith('.')) walk(join(path, e), out);
}

test('no function, constant or class of src/ is exported for its own file alone', () => {
  const files: string[] = [];
  for (const p of SEARCHED) walk(resolve(ROOT, p), files);
  const text = new Map(files.map((f) => [f, readFileSync(resolve(ROOT, f), 'utf8')]));
  const filesOf = new Map<string, Set<string>>();
  for (const [f, t] of text)
    for (const w of new Set(t.match(/[A-Za-z_$][\w$]*/g) ?? [])) {
      let s = filesOf.get(w);
      if (!s) filesOf.set(w, (s = new Set()));
      s.add(f);
    }
  // files whose every export is public through an `export * from` barrel
  const barrels = new Set<string>();
  for (const [f, t] of text)
    if (f.startsWith('src/'))
      for (const m of t.matchAll(/export \* from '([^']+)'/g)) {
        const target = relative(ROOT, resolve(ROOT, dirname(f), m[1]!)).replace(/\.js$/, '.ts');
        barrels.add(text.has(target) ? target : target.replace(/\.ts$/, '/index.ts'));
      }
  const sources = [...text.keys()].filter((f) => f.startsWith('src/') && f.endsWith('.ts'));
  assert.ok(sources.length > 100, `read ${sources.length} source files`);
  const local: string[] = [];
  for (const f of sources) {
    if (barrels.has(f) || CATALOGS.some((r) => r.test(f))) continue;
    for (const m of text.get(f)!.matchAll(/^export (?:async )?(?:function\*?|const|let|class|abstract class) ([A-Za-z_$][\w$]*)/gm))
      if ([...filesOf.get(m[1]!)!].every((g) => g === f)) local.push(`${f}: ${m[1]}`);
  }
  assert.deepEqual(local, [], 'exported but named by no other file: drop the export (or use it)');
});
