#!/usr/bin/env node
// The bundled `tsbpf` command (docs/architecture.md, "Start-up"): dist/src/cli/main.js and what
// it imports, folded by rolldown into a few CommonJS chunks in dist/cli/ -- the dispatcher, one
// chunk per command, shared chunks for the runtime, verifier and engines -- so that a command
// reads a handful of files instead of about 170 modules, and so that bin/tsbpf can compile each
// chunk through a V8 code cache (src/cli/compile-cache.ts; ES modules have no code cache API
// before Node 22). Packages (koffi, prom-client) and node: builtins stay outside. Run after tsc
// (`npm run build`, scripts/build-package.mjs); a bare `tsc` leaves the bundle older than
// dist/src/cli/main.js, and bin/tsbpf then runs the module tree instead.
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(root, 'dist/cli');
const { build } = await import(pathToFileURL(createRequire(resolve(root, 'package.json')).resolve('rolldown')).href);

rmSync(out, { recursive: true, force: true });
// Chunks that one run of a command may not need although a module on its path imports them: read
// when first used, not when the importing chunk loads (lazyRequires below). Their modules' top
// level only builds values, so evaluating them later changes nothing but when the work is done:
// the verifier log's disassembler, the context BTF (117 KB of base64, for CO-RE and kernel-BTF
// lookups), the BTF value codec (global variables by name, map dumps).
const LAZY = /[\\/]dist[\\/]src[\\/](isa[\\/]disasm|object[\\/]btf[\\/](context|context-data|codec))\.js$/;
const result = await build({
  input: { main: resolve(root, 'dist/src/cli/main.js') },
  platform: 'node',
  // a bare specifier is a package the user installs (or not: koffi is optional)
  external: (id) => !(id.startsWith('.') || isAbsolute(id)),
  logLevel: 'warn',
  // Modules whose top level only builds values (a TextDecoder, tables): rolldown cannot tell, so an
  // import of one for a re-export that is never used still evaluated it, and a command read its
  // chunk (prog run read the BTF codec's through the map classes, BENCHMARKS.md "Start-up").
  treeshake: { moduleSideEffects: [{ test: /[\\/]dist[\\/]src[\\/]object[\\/]btf[\\/]codec\.js$/, sideEffects: false }] },
  output: {
    dir: out,
    format: 'cjs',
    // content hashes in every name: the code cache is keyed by file name (compile-cache.ts)
    entryFileNames: '[name]-[hash].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    // import('koffi') as require: a vm.Script compiled from a code cache loses its dynamic-import
    // callback (Node 20), so the chunks must not use import() (checked below)
    dynamicImportInCjs: false,
    // no comments: they are most of the bytes a command reads (the module tree in dist/src keeps
    // them), and a chunk with one non-ASCII character (an em dash in a doc comment) is held by V8
    // as a two-byte string; without them prog run reads 18% fewer bytes, all one-byte, and takes
    // about 9 ms less CPU (BENCHMARKS.md, "Start-up")
    comments: false,
  },
});
// Each chunk is written already inside Node's CommonJS wrapper, which the loader (src/cli/bundle.ts)
// would otherwise concatenate around its source in every process; and in ASCII, which the loader
// reads as latin1 and V8 holds as a one-byte string.
const { WRAPPER } = await import(pathToFileURL(resolve(root, 'dist/src/cli/bundle.js')).href);
const lazyNames = new Set(result.output.filter((c) => c.type === 'chunk' && c.moduleIds.length > 0 && c.moduleIds.every((id) => LAZY.test(id))).map((c) => c.fileName));
for (const c of result.output) {
  if (c.type !== 'chunk') continue;
  const code = plainExports(lazyRequires(c.code, lazyNames));
  const wide = /[^\x00-\x7f]/.exec(code);
  if (wide) throw new Error(`${c.fileName}: non-ASCII character U+${wide[0].codePointAt(0).toString(16)} in code (write it as a \\u escape)`);
  writeFileSync(resolve(out, c.fileName), WRAPPER[0] + code + WRAPPER[1]);
}
const entry = result.output.find((c) => c.type === 'chunk' && c.isEntry);
if (!entry) throw new Error('rolldown produced no entry chunk');
const dynamic = result.output.filter((c) => c.type === 'chunk' && /\bimport\(/.test(c.code.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')));
if (dynamic.length) throw new Error(`import() left in ${dynamic.map((c) => c.fileName).join(', ')}: src/cli/bundle.ts cannot run it`);
/**
 * `const require_x = require("./x.cjs")` of a lazy chunk becomes an object of getters that requires
 * the chunk at the first use of one of its exports; kept as it is where the binding is used other
 * than as `require_x.name` (passed on, spread).
 */
function lazyRequires(code, lazy) {
  return code.replace(/const (require_\w+) = require\("\.\/([^"]+)"\);/g, (line, binding, file) => {
    if (!lazy.has(file)) return line;
    const uses = [...code.matchAll(new RegExp(`\\b${binding}\\b(\\.(\\w+))?`, 'g'))].slice(1);
    if (uses.some((m) => !m[2])) return line;
    const names = [...new Set(uses.map((m) => m[2]))];
    const load = `${binding}$load`;
    return `let ${binding}$m; const ${load} = () => ${binding}$m ??= require("./${file}"); const ${binding} = { ${names.map((n) => `get ${n}() { return ${load}().${n}; }`).join(', ')} };`;
  });
}

/**
 * rolldown exports each binding of a chunk as an accessor (a live binding), defined at the chunk's
 * end: `Object.defineProperty(exports, "x", { enumerable: true, get: function() { return x; } })`.
 * Where `x` is a const, function or class the chunk never assigns again, the value cannot change,
 * and a plain property at the same place reads the same: about 220 accessors (a closure and a
 * DefineProperty call each) on prog run's path (BENCHMARKS.md, "Start-up").
 */
function plainExports(code) {
  return code.replace(/^Object\.defineProperty\(exports, "([\w$]+)", \{\n\tenumerable: true,\n\tget: function\(\) \{\n\t\treturn ([\w$]+);\n\t\}\n\}\);$/gm, (line, name, local) => {
    const esc = local.replace(/\$/g, '\\$');
    const declared = new RegExp(`^(const ${esc} = |function\\*? ${esc}\\(|async function ${esc}\\(|class ${esc}\\b|var ${esc} = class\\b)`, 'm').test(code);
    const assigned = new RegExp(`(^|[^.\\w$])${esc}\\s*([-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?!=)`, 'm').test(code.replace(new RegExp(`^(const|let|var) ${esc} = `, 'gm'), ''));
    return declared && !assigned ? `exports.${name} = ${local};` : line;
  });
}

// The loader, src/cli/bundle.ts, as one CommonJS file: bin/tsbpf (CommonJS, bin/package.json)
// requires it, so the command starts without Node's ES module loader (about 8 ms of CPU here,
// BENCHMARKS.md "Start-up"). It imports node: builtins only.
const loader = await build({
  input: resolve(root, 'dist/src/cli/bundle.js'),
  platform: 'node',
  external: (id) => !(id.startsWith('.') || isAbsolute(id)),
  logLevel: 'warn',
  output: { file: resolve(out, 'loader.cjs'), format: 'cjs', comments: false },
});
if (loader.output.length !== 1 || /\brequire\("\.\.?\//.test(loader.output[0].code)) throw new Error('dist/cli/loader.cjs must be one file');
// bin/tsbpf reads the entry's name here; `main` is the tsc output the bundle was built from.
writeFileSync(resolve(out, 'manifest.json'), JSON.stringify({ entry: entry.fileName, chunks: result.output.length }) + '\n');
