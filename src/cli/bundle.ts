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
 * TSBPF_COMPILE_CACHE=DIR puts the cache elsewhere, TSBPF_COMPILE_CACHE=0 turns it off. A cache
 * that cannot be read or written costs nothing but the time: the command runs from source.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import vm from 'node:vm';
import { fnv1a, userCacheBase } from './cache-dir.js';

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

/** Load the bundle in `dir` (its manifest's entry chunk, and the chunks it requires as they are needed). */
export function loadBundle(dir: string, cache: string | undefined = cacheDir()): LoadedBundle {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const chunks = new Map<string, 'cached' | 'compiled'>();
  const modules = new Map<string, { exports: object }>();
  const uncached: { script: vm.Script; file: string }[] = [];
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
    try {
      if (cacheFile) cachedData = readInto(scratch, cacheFile);
    } catch {
      cachedData = undefined;
    }
    // (no import() in the chunks: scripts/bundle-cli.mjs turns those of packages into require)
    const script = new vm.Script(source, { filename, cachedData });
    const hit = cachedData !== undefined && !script.cachedDataRejected;
    chunks.set(name, hit ? 'cached' : 'compiled');
    if (!hit && cacheFile) uncached.push({ script, file: cacheFile });
    (script.runInThisContext() as Wrapped).call(module.exports, module.exports, requireChunk, module, filename, dir);
    return module.exports;
  }

  if (cache !== undefined)
    process.once('exit', () => {
      // at exit: the cache then holds every function this command compiled, not only the top level
      for (const { script, file } of uncached) {
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          mkdirSync(folder!, { recursive: true });
          writeFileSync(tmp, script.createCachedData());
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
