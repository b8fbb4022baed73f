/**
 * docs/architecture.md, "Dependencies and the core": nothing below `runtime`
 * knows about Node-only APIs, so the core also runs in a browser. This test reads every core module and its relative
 * imports and fails on a Node built-in, `process` or `Buffer` outside the few
 * modules that exist to bridge to Node (and are named so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { ROOT } from './paths.js';

const CORE = ['src/core.ts', 'src/uapi', 'src/isa', 'src/memory', 'src/object', 'src/verifier', 'src/vm', 'src/maps', 'src/helpers', 'src/runtime'];
/** Node bridges: file access, pin files, stdin/stdout of the conformance plugin. */
const NODE_ONLY = new Set(['src/object/file.ts', 'src/maps/pin.ts', 'src/runtime/node.ts']);

function walk(dir: string): string[] {
  if (dir.endsWith('.ts')) return [dir];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('core layers use no Node-only API, directly or through an import', () => {
  const problems: string[] = [];
  for (const dir of CORE) {
    for (const abs of walk(resolve(ROOT, dir))) {
      const rel = relative(ROOT, abs);
      if (NODE_ONLY.has(rel)) continue;
      const src = readFileSync(abs, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (/from\s+'node:|import\(\s*'node:/.test(src)) problems.push(`${rel}: imports a node: module`);
      if (/\bprocess\.|\bBuffer\./.test(src)) problems.push(`${rel}: uses process or Buffer`);
      for (const m of src.matchAll(/from\s+'(\.[^']+)'/g)) {
        if (/^\s*import\s+type\b/m.test(m.input!.slice(m.input!.lastIndexOf('\n', m.index!) + 1, m.index!))) continue;
        const target = relative(ROOT, resolve(dirname(abs), m[1]!.replace(/\.js$/, '.ts')));
        if (NODE_ONLY.has(target)) problems.push(`${rel}: imports the Node bridge ${target}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

/**
 * The kernel backend (src/kernel, `tsbpf/kernel`) is Node-only and loads an
 * FFI: no core module and no module the main entry (`import 'tsbpf'`) reaches
 * may import it, statically or dynamically, and only src/kernel may import
 * koffi.
 */
test('src/kernel is never imported by the core or the main entry, and only it imports koffi', () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  const visit = (abs: string): void => {
    if (seen.has(abs)) return;
    seen.add(abs);
    const rel = relative(ROOT, abs);
    const src = readFileSync(abs, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of src.matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)) {
      const target = resolve(dirname(abs), m[1]!.replace(/\.js$/, '.ts'));
      const trel = relative(ROOT, target);
      if (trel.startsWith('src/kernel/')) problems.push(`${rel} imports the kernel backend ${trel}`);
      else if (trel.startsWith('src/') && !trel.startsWith('src/cli/')) visit(target);
    }
  };
  visit(resolve(ROOT, 'src/index.ts'));
  visit(resolve(ROOT, 'src/core.ts'));
  for (const dir of [...CORE, 'src/hooks', 'src/cli']) {
    for (const abs of walk(resolve(ROOT, dir))) {
      const src = readFileSync(abs, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (/from\s+'koffi'|import\(\s*'koffi'/.test(src)) problems.push(`${relative(ROOT, abs)} imports koffi`);
    }
  }
  // the one module that imports koffi does it lazily
  const ffi = readFileSync(resolve(ROOT, 'src/kernel/ffi.ts'), 'utf8');
  assert.ok(/import\('koffi'\)/.test(ffi) && !/from\s+'koffi'/.test(ffi), 'src/kernel/ffi.ts imports koffi lazily');
  assert.ok(seen.size > 20, `walked ${seen.size} modules from the entries`);
  assert.deepEqual(problems, []);
});
