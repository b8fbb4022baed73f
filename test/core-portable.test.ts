/**
 * docs/architecture.md, "Dependencies and the core": the layers under src/
 * import one way (the table below), nothing below `runtime` knows about
 * Node-only APIs, so the core also runs in a browser, and the kernel backend
 * is never loaded unless used. These tests read every module's relative
 * imports, static, re-exported and dynamic, type-only ones included: a type
 * is a dependency of meaning even when the compiler erases it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { ROOT } from './paths.js';

const CORE = ['src/core.ts', 'src/uapi', 'src/isa', 'src/memory', 'src/object', 'src/verifier', 'src/vm', 'src/maps', 'src/helpers', 'src/runtime'];
/** Node bridges: file access, pin files, stdin/stdout of the conformance plugin. */
const NODE_ONLY = new Set(['src/object/file.ts', 'src/maps/pin.ts', 'src/runtime/node.ts']);

/**
 * Which layer may import which (docs/architecture.md's layer table; DESIGN's
 * "cli, hooks, kernel, testing -> runtime -> verifier, vm, maps, helpers ->
 * object, memory, uapi, isa"). A layer is a folder of src/ or one of its
 * top-level modules; every layer may import itself, `errors`,
 * `bounded-read`, `clock` and `lazy-map` (the typed errors, the bounded file
 * reader, the monotonic clock and the map built on first use every layer
 * shares, which import nothing of tsbpf but errors). An edge not listed here
 * fails the test: a new dependency between layers is a decision, made here.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  // the bottom: the kernel interface's facts, the instruction set, the address space
  uapi: [],
  isa: ['uapi'],
  memory: [],
  // the object file and its linking step
  object: ['isa', 'uapi'],
  // what the runtime is built from; among them, the vm reads the verifier's
  // output type and the helpers implement the vm's calling convention
  verifier: ['object', 'isa', 'uapi'],
  vm: ['verifier', 'memory', 'isa', 'uapi'],
  maps: ['object', 'memory', 'uapi'],
  helpers: ['vm', 'memory', 'isa', 'uapi'],
  runtime: ['verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  // above the runtime
  hooks: ['runtime', 'verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  testing: ['runtime', 'verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  kernel: ['runtime', 'verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  conformance: ['vm', 'memory', 'isa', 'uapi'],
  cli: ['conformance', 'hooks', 'testing', 'kernel', 'runtime', 'verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  // the entries: tsbpf/core (the browser's) and tsbpf (Node's, the core plus the Node bridges)
  core: ['runtime', 'verifier', 'vm', 'maps', 'helpers', 'object', 'memory', 'isa', 'uapi'],
  index: ['core', 'hooks', 'runtime', 'maps', 'object', 'verifier', 'vm', 'helpers', 'memory', 'isa', 'uapi'],
};
const SHARED_BY_ALL = new Set(['errors', 'bounded-read', 'clock', 'lazy-map']);
/**
 * Edges allowed to one module only, as a type: the vm sees what the verifier
 * proved (ProgramImage.aux) and nothing else of the verifier.
 */
const NARROW: Record<string, { module: string; typeOnly: true }> = {
  'vm -> verifier': { module: 'src/verifier/insn-aux.ts', typeOnly: true },
};

function walk(dir: string): string[] {
  if (dir.endsWith('.ts')) return [dir];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const stripComments = (src: string): string => src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');

interface Import {
  /** the imported module, relative to the repository root, with .ts */
  target: string;
  /** `import type` / `export type`: erased by the compiler */
  typeOnly: boolean;
  dynamic: boolean;
}

/** The relative imports in a module's source: `import`, `export ... from`, side-effect imports and `import()`. */
function importsIn(source: string, dir: string): Import[] {
  const src = stripComments(source);
  const at = (spec: string): string => relative(ROOT, resolve(dir, spec.replace(/\.js$/, '.ts')));
  const found: Import[] = [];
  for (const m of src.matchAll(/\b(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?'(\.[^']+)'/g)) {
    found.push({ target: at(m[2]!), typeOnly: m[1] !== undefined, dynamic: false });
  }
  for (const m of src.matchAll(/\bimport\(\s*'(\.[^']+)'/g)) found.push({ target: at(m[1]!), typeOnly: false, dynamic: true });
  return found;
}

const importsOf = (abs: string): Import[] => importsIn(readFileSync(abs, 'utf8'), dirname(abs));

/** The layer a module of src/ belongs to: its folder, or its own name at the top. */
function layerOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

test('the layer table has no cycle, so dependencies point one way', () => {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (layer: string, path: string[]): void => {
    if (state.get(layer) === 'done') return;
    assert.notEqual(state.get(layer), 'open', `cycle: ${[...path, layer].join(' -> ')}`);
    state.set(layer, 'open');
    for (const below of MAY_IMPORT[layer] ?? []) visit(below, [...path, layer]);
    state.set(layer, 'done');
  };
  for (const layer of Object.keys(MAY_IMPORT)) visit(layer, []);
  for (const [edge, { module }] of Object.entries(NARROW)) {
    const [from, to] = edge.split(' -> ');
    assert.ok(MAY_IMPORT[from!]?.includes(to!), `${edge} is in the table`);
    assert.equal(layerOf(module), to, `${edge} names a module of ${to}`);
  }
});

test('each layer imports only the layers the table allows', () => {
  const problems: string[] = [];
  const files = walk(resolve(ROOT, 'src')).map((abs) => relative(ROOT, abs));
  const layers = new Set(files.map(layerOf));
  for (const layer of layers) {
    if (!SHARED_BY_ALL.has(layer) && !(layer in MAY_IMPORT)) problems.push(`src/${layer} is not in the layer table`);
  }
  let edges = 0;
  for (const rel of files) {
    const from = layerOf(rel);
    for (const imp of importsOf(resolve(ROOT, rel))) {
      assert.ok(imp.target.startsWith('src/'), `${rel} imports ${imp.target}, outside src/`);
      const to = layerOf(imp.target);
      if (to === from) continue;
      edges++;
      if (SHARED_BY_ALL.has(to)) {
        if (SHARED_BY_ALL.has(from) && to !== 'errors') problems.push(`${rel} (shared by all) imports ${imp.target}`);
        continue;
      }
      if (SHARED_BY_ALL.has(from)) {
        problems.push(`${rel} (shared by all) imports the layer ${to}`);
        continue;
      }
      if (!MAY_IMPORT[from]?.includes(to)) {
        problems.push(`${rel} imports ${imp.target}: ${from} may not import ${to}`);
        continue;
      }
      const narrow = NARROW[`${from} -> ${to}`];
      if (narrow && (imp.target !== narrow.module || (narrow.typeOnly && !imp.typeOnly))) {
        problems.push(`${rel} imports ${imp.target}: ${from} may import only the type module ${narrow.module} of ${to}`);
      }
    }
  }
  assert.ok(edges > 300, `read ${edges} imports between layers`);
  assert.deepEqual(problems, []);
});

test('the import reader sees every form of import', () => {
  // the layer test is only as good as the reader: each form once
  const forms = [
    "import { a } from './a.js';",
    "import type {\n  b,\n  c,\n} from './b.js';",
    "export { d } from './d.js';",
    "export type { e } from './e.js';",
    "export * from './f.js';",
    "import './g.js';",
    "const h = await import('./h.js');",
    "import * as i from './i.js';",
    "import j, { type k } from './j.js';",
    "// import { l } from './l.js';",
  ].join('\n');
  assert.deepEqual(
    importsIn(forms, resolve(ROOT, 'src/uapi'))
      .map((f) => `${f.target}${f.typeOnly ? ' type' : ''}${f.dynamic ? ' dynamic' : ''}`)
      .sort(),
    ['a', 'b type', 'd', 'e type', 'f', 'g', 'h dynamic', 'i', 'j'].map((f) => `src/uapi/${f.replace(/^(\w)/, '$1.ts')}`),
  );
});

test('core layers use no Node-only API, directly or through an import', () => {
  const problems: string[] = [];
  for (const dir of CORE) {
    for (const abs of walk(resolve(ROOT, dir))) {
      const rel = relative(ROOT, abs);
      if (NODE_ONLY.has(rel)) continue;
      const src = stripComments(readFileSync(abs, 'utf8'));
      if (/from\s+'node:|import\(\s*'node:/.test(src)) problems.push(`${rel}: imports a node: module`);
      if (/\bprocess\.|\bBuffer\./.test(src)) problems.push(`${rel}: uses process or Buffer`);
      for (const imp of importsOf(abs)) {
        if (!imp.typeOnly && NODE_ONLY.has(imp.target)) problems.push(`${rel}: imports the Node bridge ${imp.target}`);
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
    for (const { target } of importsOf(abs)) {
      if (target.startsWith('src/kernel/')) problems.push(`${rel} imports the kernel backend ${target}`);
      else if (target.startsWith('src/') && !target.startsWith('src/cli/')) visit(resolve(ROOT, target));
    }
  };
  visit(resolve(ROOT, 'src/index.ts'));
  visit(resolve(ROOT, 'src/core.ts'));
  for (const dir of [...CORE, 'src/hooks', 'src/cli']) {
    for (const abs of walk(resolve(ROOT, dir))) {
      const src = stripComments(readFileSync(abs, 'utf8'));
      if (/from\s+'koffi'|import\(\s*'koffi'/.test(src)) problems.push(`${relative(ROOT, abs)} imports koffi`);
    }
  }
  // the one module that imports koffi does it lazily
  const ffi = readFileSync(resolve(ROOT, 'src/kernel/ffi.ts'), 'utf8');
  assert.ok(/import\('koffi'\)/.test(ffi) && !/from\s+'koffi'/.test(ffi), 'src/kernel/ffi.ts imports koffi lazily');
  assert.ok(seen.size > 20, `walked ${seen.size} modules from the entries`);
  assert.deepEqual(problems, []);
});
