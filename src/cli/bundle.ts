/**
 * Running the bundled `tsbpf` command (dist/cli/, built by scripts/bundle-cli.mjs) through a V8
 * code cache: what makes start-up fast (docs/architecture.md, "Start-up"; BENCHMARKS.md).
 *
 * The bundle's chunks are CommonJS, because Node 20 has no code cache for ES modules
 * (`module.enableCompileCache` is 22.1+). Each chunk is compiled as a `vm.Script` wrapped the way
 * Node wraps a CommonJS file, with the `cachedData` a previous run left in the user's cache
 * directory; V8 then skips parsing and compiling the chunk and the functions that run compiled
 * (v8-compile-cache does the same for every CommonJS file; this does it for our chunks only).
 * A chunk without a usable cache is cached when the process exits, with every function the
 * command ran. Chunk names carry a hash of their content, so a cache file never answers for other
 * code; V8 itself rejects a cache from another V8 version or flag set (`cachedDataRejected`), and
 * the chunk is then compiled from source and its cache written again.
 *
 * A cache holds only the functions of the command that wrote it: after a `prog run` of a small
 * program, most of the verifier's are compiled lazily by every later process that needs them. So
 * a cache is written again, with what the command compiled besides, at the exit of each of the
 * first {@link LONG_COMMAND_UPGRADES} long commands (at least {@link LONG_COMMAND_CPU_US} of CPU
 * after the loader started: a verification, not a small run) that read it; then it stays. A cold
 * `prog load` of fsdist's file_read_exit runs 345.5 M instructions with the caches a `prog run` of
 * xdp_pass wrote, 307.9 M once `prog load`s of execsnoop and biostacks rewrote them (BENCHMARKS.md,
 * "Start-up"). Each cache file ends in one byte after V8's data: its generation, how many commands
 * wrote it.
 *
 * TSBPF_COMPILE_CACHE=DIR puts the cache elsewhere, TSBPF_COMPILE_CACHE=0 turns it off. A cache
 * that cannot be read or written costs nothing but the time: the command runs from source.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import vm from 'node:vm';
import { fnv1a, userCacheBase } from './cache-dir.js';

/** Long commands that rewrite a chunk's cache after the one that first wrote it (see the file's comment). */
const LONG_COMMAND_UPGRADES = 2;

/** A command is long, for the code cache, from this much CPU (user + system, µs) after the loader started: a `prog run` of a small program takes about a third of it. */
const LONG_COMMAND_CPU_US = 100_000;

/** What scripts/bundle-cli.mjs writes beside the chunks. */
interface Manifest {
  entry: string;
}

/** The bundle's folder (dist/cli) when it is built and no older than the module tree it was built from. */
export function freshBundle(root: string): string | undefined {
  if (process.env.TSBPF_BUNDLE === '0') return undefined;
  const manifest = statSync(join(root, 'dist/cli/manifest.json'), { throwIfNoEntry: false });
  const tree = statSync(join(root, 'dist/src/cli/main.js'), { throwIfNoEntry: false });
  // a bare `tsc` rewrites every file of dist/src: the bundle is then stale until `npm run build`
  return manifest && tree && manifest.mtimeMs >= tree.mtimeMs ? join(root, 'dist/cli') : undefined;
}

/** Where chunks' code caches live (one folder per V8 version and architecture, in it one per bundle directory), or undefined when off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.TSBPF_COMPILE_CACHE;
  if (set === '0') return undefined;
  const base = set || userCacheBase(env);
  return join(base, `v8-${process.versions.v8}-${process.arch}`);
}

/** The bundle as loaded: the entry's exports and, for tests, the chunks read so far and how. */
export interface LoadedBundle {
  exports: Record<string, unknown>;
  /** chunk file name -> 'cached' (V8 took the cache), 'compiled' (no cache, or V8 rejected it) */
  chunks: Map<string, 'cached' | 'compiled'>;
}

/**
 * Node's own CommonJS wrapper (lib/internal/modules/cjs/loader.js, wrapSafe), so the chunks see
 * exports, require, module, __filename and __dirname as in any CommonJS file. scripts/bundle-cli.mjs
 * writes every chunk already wrapped: concatenating here would allocate each chunk's source a
 * second time (V8 flattens the concatenation before compiling), about 0.9 MB of young-generation
 * garbage for `prog run`, most of one scavenge.
 */
export const WRAPPER = ['(function (exports, require, module, __filename, __dirname) { ', '\n});'] as const;

type Wrapped = (exports: object, require: (id: string) => unknown, module: { exports: object }, filename: string, dirname: string) => void;

/**
 * The bytes of `file` in `scratch` (grown when too small).
 * One buffer serves every chunk and code cache a process reads: readFileSync would allocate a new
 * one per file, and each fresh page costs a page fault (about 13 us of CPU on the VM the start-up
 * bench runs on, BENCHMARKS.md "Start-up"); both the source (copied into a string) and the cache
 * (which V8 deserializes inside the vm.Script constructor, node_contextify.cc, without keeping it)
 * are done with before the next file is read.
 */
function readInto(scratch: { buf: Buffer }, file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafeSlow(Math.max(size, 2 * scratch.buf.length));
    let n = 0;
    while (n < size) {
      const got = readSync(fd, scratch.buf, n, size - n, n);
      if (got === 0) break;
      n += got;
    }
    return scratch.buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Load the bundle in `dir` (its manifest's entry chunk, and the chunks it requires as they are
 * needed), with the code caches in `cache`; `longCommandCpuUs` is for tests (0: every command is long).
 */
export function loadBundle(dir: string, cache: string | undefined = cacheDir(), longCommandCpuUs = LONG_COMMAND_CPU_US): LoadedBundle {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const chunks = new Map<string, 'cached' | 'compiled'>();
  const modules = new Map<string, { exports: object }>();
  // chunks whose cache is written at exit: without one (generation 0), or with one a long command may still rewrite
  const toWrite: { script: vm.Script; file: string; generation: number; size: number }[] = [];
  const cpuAtStart = process.cpuUsage();
  // one folder per bundle directory: a script compiled from a cache keeps the file name the cache
  // was made with, so two installations sharing caches would name each other's files in stacks
  const folder = cache === undefined ? undefined : join(cache, fnv1a(dir)) /* a short name for the bundle directory */;
  // packages (koffi, prom-client) and builtins resolve as from the bundle's folder
  const nodeRequire = createRequire(join(dir, manifest.entry));

  const requireChunk = (id: string): unknown => (id.startsWith('./') ? load(id.slice(2)) : nodeRequire(id));
  const scratch = { buf: Buffer.allocUnsafeSlow(0) };

  function load(name: string): object {
    const known = modules.get(name);
    if (known) return known.exports;
    const module = { exports: {} };
    modules.set(name, module);
    // names joined by hand: path.join on every chunk (two calls each, 40 chunks for prog run) made
    // its normalizeString hot enough for V8 to optimize it, at start-up, on a second thread
    const filename = dir + sep + name;
    // latin1: the chunks are ASCII (scripts/bundle-cli.mjs checks), so no UTF-8 decoding is needed
    const source = readInto(scratch, filename).toString('latin1');
    const cacheFile = folder === undefined ? undefined : folder + sep + name + '.v8';
    let cachedData: Buffer | undefined;
    let generation = 0;
    try {
      if (cacheFile) {
        const bytes = readInto(scratch, cacheFile);
        // V8's data, then the generation byte
        if (bytes.length > 1) [cachedData, generation] = [bytes.subarray(0, bytes.length - 1), bytes[bytes.length - 1]!];
      }
    } catch {
      cachedData = undefined;
    }
    // (no import() in the chunks: scripts/bundle-cli.mjs turns those of packages into require)
    const script = new vm.Script(source, { filename, cachedData });
    const hit = cachedData !== undefined && !script.cachedDataRejected;
    chunks.set(name, hit ? 'cached' : 'compiled');
    if (cacheFile && (!hit || generation <= LONG_COMMAND_UPGRADES)) toWrite.push({ script, file: cacheFile, generation: hit ? generation : 0, size: hit ? cachedData!.length : 0 });
    (script.runInThisContext() as Wrapped).call(module.exports, module.exports, requireChunk, module, filename, dir);
    return module.exports;
  }

  if (cache !== undefined)
    process.once('exit', () => {
      // at exit: the cache then holds every function this command compiled, not only the top level
      const cpu = process.cpuUsage(cpuAtStart);
      const long = cpu.user + cpu.system >= longCommandCpuUs;
      for (const { script, file, generation, size } of toWrite) {
        if (generation > 0 && !long) continue;
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          const data = script.createCachedData();
          // the rewrite holds what the cache held (deserialized) and what this command compiled; V8
          // may have flushed the bytecode of functions that did not run, so a smaller one is not taken
          // (but counted, so that a chunk whose functions are all cached is not serialized forever)
          if (data.length < size) {
            bumpGeneration(file, size, generation + 1);
            continue;
          }
          mkdirSync(folder!, { recursive: true });
          writeFileSync(tmp, Buffer.concat([data, Buffer.of(generation + 1)]));
          renameSync(tmp, file); // atomic: a concurrent run reads the old cache or the new, never half
        } catch {
          // not writable (another user's HOME, a read-only file system): run uncached, say nothing
          try {
            rmSync(tmp, { force: true });
          } catch {
            // nothing was written
          }
        }
      }
    });
  return { exports: load(manifest.entry) as Record<string, unknown>, chunks };
}

/** Set the generation byte of the cache `file` (after `size` bytes of V8's data) in place: one byte, old or new to a concurrent reader. */
function bumpGeneration(file: string, size: number, generation: number): void {
  const fd = openSync(file, 'r+');
  try {
    if (fstatSync(fd).size === size + 1) writeSync(fd, Buffer.of(generation), 0, 1, size);
  } finally {
    closeSync(fd);
  }
}
