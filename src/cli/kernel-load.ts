/**
 * `tsbpf prog load FILE PATH --kernel` and `tsbpf prog loadall FILE DIR`:
 * the object loaded into the running kernel and pinned, as bpftool's
 * load_with_options does: the whole object is loaded (its maps, every
 * program), then `load` pins the first program at PATH and `loadall` each
 * program at DIR/NAME; `pinmaps DIR` pins every map at DIR/NAME ('.' in a
 * name becomes '_', as libbpf's sanitize_pin_path); `autoattach` attaches
 * each program where its section says and pins the link instead, falling
 * back to pinning the program when it cannot be attached. `map name NAME
 * MAP` / `map idx N MAP` reuse a map the kernel holds (`id N` or `pinned
 * PATH`) in place of the object's. Pins made before a failure are removed.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CliUsageError, jsonText } from './args.js';
import { TsbpfError } from '../errors.js';
import { loadObjectFileSync } from '../object/file.js';
import { VerifierError } from '../verifier/error.js';
import type { KernelMap } from '../kernel/map.js';

export interface KernelLoadCli {
  /** loadall: every program, under a directory */
  all: boolean;
  json: boolean;
  pretty: boolean;
  logLevel: 0 | 1 | 2;
  debug: boolean;
}

interface Words {
  file: string;
  path: string;
  pinmaps?: string;
  autoattach: boolean;
  reuse: Array<{ by: { name: string } | { idx: number }; ref: { id: number } | { pinned: string } }>;
}

function parseWords(w: string[], verb: string): Words {
  const [file, path, ...rest] = w;
  if (!file || !path) throw new CliUsageError(`expected FILE and ${verb === 'loadall' ? 'DIR' : 'PATH'}`);
  const out: Words = { file, path, autoattach: false, reuse: [] };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (word === 'autoattach') out.autoattach = true;
    else if (word === 'pinmaps' && rest[i + 1]) out.pinmaps = rest[++i]!;
    else if (word === 'map' && (rest[i + 1] === 'name' || rest[i + 1] === 'idx') && rest[i + 2] && (rest[i + 3] === 'id' || rest[i + 3] === 'pinned') && rest[i + 4]) {
      const key = rest[i + 2]!;
      const by = rest[i + 1] === 'name' ? { name: key } : /^\d+$/.test(key) ? { idx: Number(key) } : badWord(`map index '${key}'`);
      const v = rest[i + 4]!;
      const ref = rest[i + 3] === 'pinned' ? { pinned: v } : /^\d+$/.test(v) ? { id: Number(v) } : badWord(`map id '${v}'`);
      out.reuse.push({ by, ref });
      i += 4;
    } else throw new CliUsageError(`unexpected '${word}' (expected pinmaps DIR, autoattach, or map { name NAME | idx N } { id N | pinned PATH })`);
  }
  return out;
}

function badWord(what: string): never {
  throw new CliUsageError(`invalid ${what}`);
}

export async function loadKernel(words: string[], o: KernelLoadCli): Promise<number> {
  const w = parseWords(words, o.all ? 'loadall' : 'load');
  const spec = loadObjectFileSync(w.file);
  const { KernelRuntime } = await import('../kernel/index.js');
  const rt = new KernelRuntime();
  const made: string[] = [];
  // maps the kernel holds, used in place of the object's (the collection does not close them)
  const replaceMaps: Record<string, KernelMap> = {};
  try {
    const mapNames = [...spec.maps.keys()];
    for (const r of w.reuse) {
      const name = 'name' in r.by ? r.by.name : mapNames[r.by.idx];
      if (name === undefined || !spec.maps.has(name)) throw new TsbpfError('ENOENT', `unable to find map ${'name' in r.by ? `'${r.by.name}'` : `idx ${r.by.idx}`} in ${w.file}`);
      if (replaceMaps[name]) throw new TsbpfError('EINVAL', `replacement for map ${name} specified more than once`);
      replaceMaps[name] = await rt.openMap(r.ref);
    }
    let coll;
    try {
      coll = await rt.load(spec, { replaceMaps, ...(o.logLevel ? { logLevel: o.logLevel } : {}) });
    } catch (e) {
      if (e instanceof VerifierError) return rejected(e, o);
      throw e;
    }
    const progs = [...coll.programs.values()];
    if (!progs.length) throw new TsbpfError('ENOENT', `${w.file} contains no program`);
    if (o.all) mkdirSync(w.path, { recursive: true });
    for (const p of o.all ? progs : progs.slice(0, 1)) {
      const at = o.all ? join(w.path, p.name) : w.path;
      let link;
      if (w.autoattach) {
        try {
          link = p.attach();
        } catch (e) {
          // bpftool's line, then why (a kernel without kprobes names CONFIG_KPROBES)
          process.stderr.write(`Program ${p.name} does not support autoattach, falling back to pinning\n`);
          if (e instanceof TsbpfError) process.stderr.write(`  ${e.message} (${e.errno})\n`);
        }
      }
      if (link) link.pin(at);
      else p.pin(at);
      made.push(at);
    }
    if (w.pinmaps) {
      mkdirSync(w.pinmaps, { recursive: true });
      for (const m of coll.maps.values()) {
        const at = join(w.pinmaps, m.name.replace(/\./g, '_'));
        m.pin(at);
        made.push(at);
      }
    }
    if (o.logLevel) for (const p of progs) if (p.verifierLog) process.stdout.write(o.json ? '' : `-- ${p.name} --\n${p.verifierLog}`);
    if (o.json) process.stdout.write(jsonText(null, o.pretty));
    made.length = 0;
    return 0;
  } finally {
    for (const p of made.reverse()) rmSync(p, { force: true });
    rt.close();
    for (const m of Object.values(replaceMaps)) m.close();
  }
}

/** A program the kernel refused: the kernel's message and tsbpf's explanation (the whole log with -d or a log level). */
function rejected(e: VerifierError, o: KernelLoadCli): number {
  if (o.json) {
    process.stdout.write(jsonText({ error: e.message, errno: e.errno, kernel_message: e.kernelMessage, ...(o.debug || o.logLevel ? { log: e.log } : {}) }, o.pretty));
    return 1;
  }
  process.stdout.write(`${'program' in e ? `${String(e.program)}: ` : ''}rejected by the kernel (${e.errno})\n${e.explain()}\n`);
  if (o.debug || o.logLevel) process.stdout.write(`-- the kernel's verifier log --\n${e.log}`);
  else process.stdout.write('  (the kernel\'s whole log: -d, or --log-level 1)\n');
  return 1;
}
