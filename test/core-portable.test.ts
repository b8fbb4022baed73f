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

const CORE = ['src/core.ts', 'src/isa', 'src/object', 'src/verifier', 'src/vm', 'src/maps', 'src/helpers', 'src/runtime'];
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
