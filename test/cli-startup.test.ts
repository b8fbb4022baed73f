/**
 * Start-up of the CLI (issue 17): a command loads the modules it uses and no
 * others, in the module tree (dist/src, recorded by an ESM resolve hook around
 * `tsbpf prog run` and `tsbpf version` with TSBPF_BUNDLE=0) and in the bundle
 * (dist/cli, the chunks src/cli/bundle.ts reads); the bundle's V8 code cache is
 * written, taken, and survives a corrupt file. The time all this saves is the
 * startup benchmark's business (bench/startup.bench.ts), not a test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FIXTURES, ROOT } from './paths.js';
import { freshBundle, WRAPPER } from '../src/cli/bundle.js';
import { commandModules, MODULES } from '../src/cli/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsbpf-cli-startup-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
writeFileSync(
  join(tmp, 'hooks.mjs'),
  `export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith('file:')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }\n`,
);
writeFileSync(join(tmp, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(tmp, 'hooks.mjs')).href)});\n`);
const pkt = join(tmp, 'pkt');
writeFileSync(pkt, new Uint8Array(64));

/** The files (relative to the repository) a CLI invocation loads, and its exit status. */
function modulesOf(args: string[]): { loaded: string[]; status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(tmp, 'register.mjs')).href, join(ROOT, 'bin/tsbpf'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TSBPF_BUNDLE: '0' },
  });
  const loaded = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOADED '))
    .map((l) => relative(ROOT, fileURLToPath(l.slice(7))));
  return { loaded: [...new Set(loaded)].sort(), status: r.status, out: r.stdout };
}

/**
 * The folders whose modules `prog run` may load (its command, the object reader, the verifier,
 * the runtime with its maps and helpers, the engines). A module from any other folder -- the
 * kernel backend, hooks, the test kit, a folder added later -- fails the test below: make it
 * lazy (import() where the command needs it) or, if prog run really needs it, add it here.
 */
const PROG_RUN_FOLDERS = new Set(
  ['', 'cli', 'helpers', 'isa', 'maps', 'memory', 'object', 'object/btf', 'runtime', 'runtime/testrun', 'uapi', 'verifier', 'verifier/progtypes', 'vm', 'vm/interp', 'vm/jit'].map((d) =>
    d ? `dist/src/${d}` : 'dist/src',
  ),
);

test('tsbpf prog run ... repeat 2 loads its command, the runtime and the JIT from their folders only; no interpreter, other command, kernel backend, hooks, BTF dumpers, WebAssembly printer or packages', () => {
  const { loaded, status, out } = modulesOf(['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', 'data_in', pkt, 'repeat', '2']);
  assert.equal(status, 0, out);
  assert.match(out, /Return value: 2/);
  for (const want of ['dist/src/cli/commands/prog-run.js', 'dist/src/runtime/runtime.js', 'dist/src/verifier/index.js', 'dist/src/vm/jit/engine.js'])
    assert.ok(loaded.includes(want), `${want} is loaded`);
  const unwanted = loaded.filter(
    (f) =>
      f !== 'bin/tsbpf' &&
      f !== 'dist/src/cli/commands/prog-run.js' &&
      (!PROG_RUN_FOLDERS.has(dirname(f)) ||
        /^dist\/src\/object\/btf\/(dump-c|dump-raw|json)\.js$/.test(f) ||
        // the WebAssembly text printer is `prog dump jited`'s
        f === 'dist/src/vm/jit/wat.js' ||
        // the interpreter is --interpret's and one run's: repeated runs on the JIT (their default) do not load it
        f === 'dist/src/vm/interpreter.js' ||
        f.startsWith('dist/src/vm/interp/')),
  );
  assert.deepEqual(unwanted, [], 'modules prog run does not use');
});

test('tsbpf prog run --interpret, and one run on the tiered engine (the default), load the interpreter when they first prepare a program and never the JIT; --jit the JIT only', () => {
  for (const [flags, interpreted] of [[['--interpret'], true], [[], true], [['repeat', '1'], true], [['--jit'], false]] as const) {
    const { loaded, status, out } = modulesOf(['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', 'data_in', pkt, ...flags]);
    assert.equal(status, 0, out);
    assert.match(out, /Return value: 2/);
    assert.equal(loaded.includes('dist/src/vm/interpreter.js'), interpreted, `${flags.join(' ')}: ${loaded.join(' ')}`);
    // the tiered engine imports the JIT when a program tiers up (its 65th run): one run never does
    // (the WebAssembly encoder and murmur3's steps are the helpers' probes' too: src/helpers/hash-probe.ts)
    const jit = loaded.filter((f) => f.startsWith('dist/src/vm/jit/') && !/\/(wasm|murmur)\.js$/.test(f));
    if (interpreted) assert.deepEqual(jit, [], `${flags.join(' ')}: no JIT module`);
    else for (const want of ['engine', 'compile', 'inline-hash']) assert.ok(jit.includes(`dist/src/vm/jit/${want}.js`), `${flags.join(' ')}: ${loaded.join(' ')}`);
  }
});

test('tsbpf version loads the dispatcher and its own command only', () => {
  const { loaded, status } = modulesOf(['version']);
  assert.equal(status, 0);
  const src = loaded.filter((f) => f.startsWith('dist/src/'));
  assert.ok(src.includes('dist/src/cli/commands/version.js'), src.join(' '));
  assert.deepEqual(
    // (errors and the bounded file reader are the dispatcher's own)
    src.filter((f) => !f.startsWith('dist/src/cli/') && f !== 'dist/src/errors.js' && f !== 'dist/src/bounded-read.js'),
    [],
    'no runtime, verifier, engines or maps for `version`',
  );
});

test('every command and verb the dispatcher knows has its module in the (bundler-visible) table', () => {
  assert.deepEqual(Object.keys(MODULES).sort(), commandModules().sort());
});

test('the bundle is used only when it is not older than the module tree it was built from', () => {
  const root = join(tmp, 'fresh');
  mkdirSync(join(root, 'dist/cli'), { recursive: true });
  mkdirSync(join(root, 'dist/src/cli'), { recursive: true });
  writeFileSync(join(root, 'dist/cli/manifest.json'), '{}');
  writeFileSync(join(root, 'dist/src/cli/main.js'), '');
  utimesSync(join(root, 'dist/src/cli/main.js'), 1000, 1000);
  utimesSync(join(root, 'dist/cli/manifest.json'), 1000, 1000); // npm pack gives every file one date
  assert.equal(freshBundle(root), join(root, 'dist/cli'));
  utimesSync(join(root, 'dist/src/cli/main.js'), 2000, 2000); // a bare tsc after the bundle
  assert.equal(freshBundle(root), undefined);
  rmSync(join(root, 'dist/src/cli/main.js'));
  assert.equal(freshBundle(root), undefined);
});

/** dist/cli as `npm run build` leaves it (built here when a bare tsc made it stale). */
function bundleDir(): string {
  let dir = freshBundle(ROOT);
  if (!dir) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle-cli.mjs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    dir = freshBundle(ROOT);
  }
  assert.ok(dir, 'dist/cli is built');
  return dir;
}

/** `tsbpf ARGS` run from the bundle with its code cache in `cache`: the output and each chunk read, with how. */
function bundled(cache: string, args: string[], longCommandCpuUs?: number): { out: string; status: number | null; chunks: Record<string, string> } {
  const script = `
    const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/cli/bundle.js')).href)});
    const b = loadBundle(${JSON.stringify(bundleDir())}, undefined, ${JSON.stringify(longCommandCpuUs)});
    process.exitCode = await b.exports.main(${JSON.stringify(args)});
    process.stderr.write('CHUNKS ' + JSON.stringify(Object.fromEntries(b.chunks)) + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TSBPF_COMPILE_CACHE: cache } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('CHUNKS '));
  assert.ok(line, r.stderr);
  return { out: r.stdout, status: r.status, chunks: JSON.parse(line.slice(7)) as Record<string, string> };
}

const PROG_RUN = ['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_pass', 'data_in', pkt];

test('bundled tsbpf prog run ... repeat 2 reads the chunks of its command, the runtime and the JIT; not the interpreter, kernel backend, hooks or other commands', () => {
  const { out, status, chunks } = bundled('0', [...PROG_RUN, 'repeat', '2']);
  assert.equal(status, 0, out);
  assert.match(out, /Return value: 2/);
  const names = Object.keys(chunks).map((f) => f.replace(/-[\w-]{8}\.cjs$/, ''));
  for (const want of ['main', 'prog-run', 'runtime', 'verifier', 'engine']) assert.ok(names.includes(want), `${want} in ${names.join(' ')}`);
  // (the interpreter's chunk is --interpret's and one run's: repeated runs on the JIT, their default, do not read it)
  const unwanted = names.filter((n) => ['kernel', 'prog-run-kernel', 'objects', 'wat', 'demo', 'xdp', 'export', 'prog-load', 'btf-dump', 'interpreter'].includes(n));
  assert.deepEqual(unwanted, [], 'chunks prog run does not use');
  assert.deepEqual(new Set(Object.values(chunks)), new Set(['compiled']), 'TSBPF_COMPILE_CACHE=0: no cache');
  // scripts/bundle-cli.mjs drops comments so that V8 holds every chunk as a one-byte string; a
  // non-ASCII character left in code (a string literal) doubles its chunk's memory: write it as \u escape
  const wide = Object.keys(chunks).filter((c) => /[^\x00-\x7f]/.test(readFileSync(join(bundleDir(), c), 'utf8')));
  assert.deepEqual(wide, [], 'chunks with non-ASCII characters');
  // and each is written inside Node's CommonJS wrapper, so the loader does not concatenate one around it
  const bare = Object.keys(chunks).filter((c) => !readFileSync(join(bundleDir(), c), 'latin1').startsWith(WRAPPER[0]));
  assert.deepEqual(bare, [], 'chunks not written inside the wrapper');
});

test('bundled prog run of xdp_pass does not read the lazy chunks (disassembler, context BTF, BTF value codec); a command that uses one reads it when it does', () => {
  // the chunks by what they define (scripts/bundle-cli.mjs LAZY: required at the first use of an export)
  const defining = (chunks: Record<string, string>, re: RegExp): string[] => Object.keys(chunks).filter((c) => re.test(readFileSync(join(bundleDir(), c), 'latin1')));
  const LAZY = /\bCONTEXT_BTF_BASE64 = |\bfunction formatInsn\(|\bfunction decodeValue\(/;
  const one = bundled('0', PROG_RUN);
  assert.equal(one.status, 0, one.out);
  assert.match(one.out, /Return value: 2/);
  assert.deepEqual(defining(one.chunks, LAZY), [], 'lazy chunks read by one run');
  const dis = bundled('0', ['disasm', join(FIXTURES, 'xdp_firewall.o')]);
  assert.equal(dis.status, 0, dis.out);
  assert.match(dis.out, /^ +0: \(b7\) r0 = 1$/m);
  assert.equal(defining(dis.chunks, /\bfunction formatInsn\(/).length, 1, 'disasm reads the disassembler');
});

test("bundled tsbpf prog run --interpret, and one run (the default, tiered), read the interpreter chunk and not the JIT's; --jit the JIT's and not the interpreter's", () => {
  for (const [flags, interpreted] of [[['--interpret'], true], [[], true], [['--jit'], false]] as const) {
    const { out, status, chunks } = bundled('0', [...PROG_RUN, ...flags]);
    assert.equal(status, 0, out);
    assert.match(out, /Return value: 2/);
    const names = Object.keys(chunks).map((f) => f.replace(/-[\w-]{8}\.cjs$/, ''));
    assert.equal(names.includes('interpreter'), interpreted, names.join(' '));
    // the JIT's chunk (src/vm/jit/engine.ts and its compiler), named by what it defines
    const jit = Object.keys(chunks).filter((c) => /\b(class JitEngine|JitEngine = class)\b/.test(readFileSync(join(bundleDir(), c), 'latin1')));
    assert.equal(jit.length, interpreted ? 0 : 1, `${flags.join(' ')}: ${jit.join(' ')}`);
  }
});

/** prog run's answer without its duration */
const answer = (out: string): string => out.replace(/duration: \d+ns/, 'duration: N');

test("the bundle's code cache: written by the first run, taken by the next, a corrupt file compiled from source and rewritten", () => {
  const cache = join(tmp, 'cache');
  const first = bundled(cache, PROG_RUN);
  assert.equal(first.status, 0, first.out);
  assert.deepEqual(new Set(Object.values(first.chunks)), new Set(['compiled']));
  const [v8dir] = readdirSync(cache);
  assert.match(v8dir!, /^v8-/, 'one folder per V8 version');
  const [bundleKey] = readdirSync(join(cache, v8dir!));
  assert.match(bundleKey!, /^[0-9a-f]{8}$/, 'in it one per bundle directory');
  const dir = join(v8dir!, bundleKey!);
  const files = readdirSync(join(cache, dir)).sort();
  assert.deepEqual(files, Object.keys(first.chunks).map((c) => `${c}.v8`).sort(), 'a cache file per chunk read');

  const second = bundled(cache, PROG_RUN);
  assert.equal(answer(second.out), answer(first.out));
  assert.deepEqual(new Set(Object.values(second.chunks)), new Set(['cached']), 'every chunk from the cache');

  const main = Object.keys(first.chunks).find((c) => c.startsWith('main-'))!;
  writeFileSync(join(cache, dir, `${main}.v8`), new Uint8Array(4096).fill(0x5a));
  const third = bundled(cache, PROG_RUN);
  assert.equal(answer(third.out), answer(first.out), 'the same answer from source');
  assert.equal(third.chunks[main], 'compiled', 'V8 rejected the corrupt cache');
  assert.equal(bundled(cache, PROG_RUN).chunks[main], 'cached', 'and its cache was written again');
});

test("the code cache's generations: written by the first command, rewritten by the next two long ones, then kept; a short command leaves it", () => {
  const cache = join(tmp, 'cache-generations');
  const files = (): Map<string, Buffer> => {
    const [v8dir] = readdirSync(cache);
    const [bundleKey] = readdirSync(join(cache, v8dir!));
    const dir = join(cache, v8dir!, bundleKey!);
    return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  };
  const generations = (m: Map<string, Buffer>): Set<number> => new Set([...m.values()].map((b) => b[b.length - 1]!));
  const never = Number.MAX_SAFE_INTEGER;
  assert.equal(bundled(cache, PROG_RUN, never).status, 0);
  const first = files();
  assert.deepEqual(generations(first), new Set([1]), 'the first command writes generation 1');
  bundled(cache, PROG_RUN, never);
  assert.deepEqual(files(), first, 'a short command leaves every cache as it is');
  const second = bundled(cache, PROG_RUN, 0);
  assert.deepEqual(new Set(Object.values(second.chunks)), new Set(['cached']), 'a long command reads the caches');
  assert.deepEqual(generations(files()), new Set([2]), 'and writes them again');
  bundled(cache, PROG_RUN, 0);
  const third = files();
  assert.deepEqual(generations(third), new Set([3]), 'the second long command too');
  const last = bundled(cache, PROG_RUN, 0);
  assert.deepEqual(new Set(Object.values(last.chunks)), new Set(['cached']));
  assert.deepEqual(files(), third, 'then they stay');
});

test('bin/tsbpf is CommonJS and runs the bundle through its CommonJS loader (dist/cli/loader.cjs)', () => {
  // a preload lists the CommonJS files the process required; ES modules never enter require.cache
  const preload = join(tmp, 'required.cjs');
  writeFileSync(preload, `process.on('exit', () => process.stderr.write('REQUIRED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n`);
  bundleDir();
  const r = spawnSync(process.execPath, ['-r', preload, join(ROOT, 'bin/tsbpf'), ...PROG_RUN], {
    encoding: 'utf8',
    env: { ...process.env, TSBPF_COMPILE_CACHE: '0', TSBPF_BUNDLE: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Return value: 2/);
  const line = r.stderr.split('\n').find((l) => l.startsWith('REQUIRED '));
  assert.ok(line, r.stderr);
  const required = (JSON.parse(line.slice(9)) as string[]).map((f) => relative(ROOT, f));
  assert.ok(required.includes('bin/tsbpf'), `bin/tsbpf is CommonJS: ${required.join(' ')}`);
  assert.ok(required.includes('dist/cli/loader.cjs'), 'the loader is the bundled CommonJS one');
});

test('bin/tsbpf ends a finished command with process.exit (no isolate teardown): exit listeners and the code cache still run; a pending timer or beforeExit listener keeps Node\'s exit', () => {
  bundleDir();
  // a preload reports, from an 'exit' listener, whether process.exit() is on the stack
  const how = join(tmp, 'exit-how.cjs');
  writeFileSync(how, `process.on('exit', () => process.stderr.write('EXIT ' + (/at process\\.exit /.test(new Error().stack) ? 'process.exit' : 'natural') + '\\n'));\n`);
  const run = (preloads: string[], cache: string) =>
    spawnSync(process.execPath, [...preloads.flatMap((p) => ['-r', p]), join(ROOT, 'bin/tsbpf'), ...PROG_RUN], {
      encoding: 'utf8',
      env: { ...process.env, TSBPF_COMPILE_CACHE: cache, TSBPF_BUNDLE: '' },
    });
  const cache = join(tmp, 'cache-exit');
  const r = run([how], cache);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Return value: 2/);
  assert.match(r.stderr, /^EXIT process\.exit$/m);
  const [v8dir] = readdirSync(cache);
  const [bundleKey] = readdirSync(join(cache, v8dir!));
  assert.ok(readdirSync(join(cache, v8dir!, bundleKey!)).some((f) => f.startsWith('prog-run-')), 'the code cache was written at exit');
  // something still scheduled when main() returns (a timer, here from a preload) runs, and Node ends on its own
  const timer = join(tmp, 'late-timer.cjs');
  writeFileSync(timer, `setTimeout(() => process.stderr.write('LATE\\n'), 200);\n`);
  const t = run([how, timer], '0');
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stderr, /^LATE$/m);
  assert.match(t.stderr, /^EXIT natural$/m);
  const before = join(tmp, 'before-exit.cjs');
  writeFileSync(before, `process.once('beforeExit', () => process.stderr.write('BEFORE\\n'));\n`);
  const b = run([how, before], '0');
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /^BEFORE$/m);
  assert.match(b.stderr, /^EXIT natural$/m);
});

/** The Node built-in modules `node ARGS` loads beyond what `node -e 0` loads (process.moduleLoadList, printed at exit by a preload). */
function builtinsOf(args: string[], env: NodeJS.ProcessEnv = {}): { extra: string[]; status: number | null; out: string } {
  const preload = join(tmp, 'builtins.cjs');
  writeFileSync(preload, `process.on('exit', () => process.stderr.write('BUILTINS ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n`);
  const list = (r: ReturnType<typeof spawnSync>): string[] => {
    const line = String(r.stderr).split('\n').find((l) => l.startsWith('BUILTINS '));
    assert.ok(line, String(r.stderr));
    return (JSON.parse(line.slice(9)) as string[]).filter((m) => m.startsWith('NativeModule '));
  };
  const base = new Set(list(spawnSync(process.execPath, ['-r', preload, '-e', '0'], { encoding: 'utf8' })));
  const r = spawnSync(process.execPath, ['-r', preload, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { extra: list(r).filter((m) => !base.has(m)).map((m) => m.slice('NativeModule '.length)), status: r.status, out: r.stdout };
}

test("bin/tsbpf prog run loads no Node stream, perf_hooks or fs/promises modules (its output is one write to fd 1, its clock is process.hrtime)", () => {
  bundleDir();
  for (const env of [{ TSBPF_COMPILE_CACHE: '0', TSBPF_BUNDLE: '' }, { TSBPF_BUNDLE: '0' }]) {
    const { extra, status, out } = builtinsOf([join(ROOT, 'bin/tsbpf'), ...PROG_RUN], env);
    assert.equal(status, 0, out);
    assert.match(out, /Return value: 2/);
    const unwanted = extra.filter((m) => /^(stream|fs\/promises|perf_hooks)$|^internal\/(streams|perf|fs\/promises)\//.test(m));
    assert.deepEqual(unwanted, [], `built-in modules prog run does not need (${env.TSBPF_BUNDLE === '0' ? 'module tree' : 'bundle'})`);
  }
});

test('two copies of the bundle keep separate code caches, so a stack names the copy that ran', () => {
  // V8 keeps the file name a cache was made with: a shared cache would name the other copy's files
  const copy = join(ROOT, 'dist', `cli-copy-${process.pid}`);
  cpSync(bundleDir(), copy, { recursive: true });
  try {
    const cache = join(tmp, 'cache-copies');
    const script = (dir: string): string => `
      const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/cli/bundle.js')).href)});
      process.exitCode = await loadBundle(${JSON.stringify(dir)}).exports.main(['--debug', 'prog', 'run', ${JSON.stringify(join(tmp, 'missing.o'))}, 'p', 'data_in', ${JSON.stringify(pkt)}]);`;
    const run = (dir: string): string =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script(dir)], { encoding: 'utf8', env: { ...process.env, TSBPF_COMPILE_CACHE: cache } }).stderr;
    run(bundleDir()); // caches the original's chunks
    const stack = run(copy); // the copy's, with a cache of its own
    assert.match(stack, /ENOENT/);
    assert.ok(stack.includes(copy) && !stack.includes(bundleDir() + '/'), stack);
    const [v8dir] = readdirSync(cache);
    assert.equal(readdirSync(join(cache, v8dir!)).length, 2, 'a cache folder per bundle directory');
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

/** The `programs` option of every Runtime.load `tsbpf prog run ARGS` makes (the module tree, with Runtime.prototype.load wrapped by a preload), and the run's output. */
function loadsOf(args: string[]): { loads: (string[] | null)[]; status: number | null; out: string } {
  const spy = join(tmp, 'load-spy.mjs');
  writeFileSync(
    spy,
    `import { Runtime } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/runtime/runtime.js')).href)};
const load = Runtime.prototype.load;
Runtime.prototype.load = function (spec, opts) { process.stderr.write('LOAD ' + JSON.stringify(opts?.programs ?? null) + '\\n'); return load.call(this, spec, opts); };\n`,
  );
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(spy).href, join(ROOT, 'bin/tsbpf'), ...args], { encoding: 'utf8', env: { ...process.env, TSBPF_BUNDLE: '0' } });
  const loads = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('LOAD '))
    .map((l) => JSON.parse(l.slice(5)) as string[] | null);
  return { loads, status: r.status, out: r.stdout + r.stderr };
}

test('prog run loads only the program it runs when no map slot names a program (the others are not verified or compiled)', () => {
  const { loads, status, out } = loadsOf(PROG_RUN);
  assert.equal(status, 0, out);
  assert.match(out, /Return value: 2/);
  // xdp_firewall.o holds xdp_firewall too, which no prog_array can reach
  assert.deepEqual(loads, [['xdp_pass']]);
});

test("prog run loads the whole object when a prog_array's slots name its programs, so a tail call reaches them", () => {
  // tail_call.o: dispatch tail-calls jump_table[len & 3]; slot 0 is tail_a (XDP_DROP), slot 2 tail_b (XDP_TX), slot 1 empty
  const cases: [number, number][] = [
    [64, 1],
    [66, 3],
    [65, 2],
  ];
  for (const [len, retval] of cases) {
    const data = join(tmp, `pkt-${len}`);
    writeFileSync(data, new Uint8Array(len));
    const { loads, status, out } = loadsOf(['prog', 'run', join(FIXTURES, 'tail_call.o'), 'dispatch', 'data_in', data]);
    assert.equal(status, 0, out);
    assert.deepEqual(loads, [null], 'one load of the whole object');
    assert.match(out, new RegExp(`Return value: ${retval},`), `a ${len}-byte packet`);
  }
});

/** Whether `tsbpf ARGS` (the module tree) built the helper catalog (src/uapi/helpers.ts's HELPERS, a LazyMap), and its output. */
function catalogBuiltBy(args: string[]): { built: boolean; status: number | null; out: string } {
  const probe = join(tmp, 'catalog-probe.mjs');
  writeFileSync(
    probe,
    `import { HELPERS } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/uapi/helpers.js')).href)};
process.on('exit', () => process.stderr.write('CATALOG ' + HELPERS.isBuilt + '\\n'));\n`,
  );
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, join(ROOT, 'bin/tsbpf'), ...args], { encoding: 'utf8', env: { ...process.env, TSBPF_BUNDLE: '0' } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('CATALOG '));
  assert.ok(line, r.stderr);
  return { built: line === 'CATALOG true', status: r.status, out: r.stdout + r.stderr };
}

test('the helper catalog is built only when a program calls a helper: not by prog run of xdp_pass, by prog run of xdp_firewall (bpf_map_lookup_elem)', () => {
  const pass = catalogBuiltBy(PROG_RUN);
  assert.equal(pass.status, 0, pass.out);
  assert.match(pass.out, /Return value: 2/);
  assert.equal(pass.built, false, 'prog run of a program without helper calls');
  const fw = catalogBuiltBy(['prog', 'run', join(FIXTURES, 'xdp_firewall.o'), 'xdp_firewall', 'data_in', pkt]);
  assert.equal(fw.status, 0, fw.out);
  assert.equal(fw.built, true, 'prog run of a program that looks up a map');
});
