/**
 * `tsbpf prog show [FILE [PROG]] [-j]` (also `prog list`): bpftool's
 * `prog show` layout and JSON. With FILE, the programs of that object as
 * tsbpf loads them: id, type, name, the kernel's tag of the instructions,
 * gpl, xlated and JIT (WebAssembly) sizes, the ids of the maps they use.
 * Without FILE (or with `id N`, `pinned PATH`), the running kernel's
 * programs (kernel-show.ts).
 */
import { CliUsageError, JSON_OPTS, parse, type OptionSpec, jsonText } from '../args.js';
import { TsbpfError } from '../../errors.js';
import { loadObjectFileSync } from '../../object/file.js';
import { Runtime } from '../../runtime/runtime.js';
import { progPlain, progTag, type ProgInfo } from '../listing.js';
import { progress } from '../progress.js';

export const options: OptionSpec = { ...JSON_OPTS, interpret: { type: 'boolean' } };

export const usage = `Usage: tsbpf prog { show | list } [FILE [PROG] | id N | pinned PATH] [--interpret] [-j|-p]
  FILE: the programs of that object file as tsbpf loads them (verified and
  compiled): id, type, name, tag (the kernel's bpf_prog_calc_tag of the
  instructions), gpl, xlated and jited (WebAssembly) bytes, map_ids; PROG
  (a name) only that one. --interpret: loaded for the interpreter (not jited).
  Without FILE, or with 'id N' or 'pinned PATH': the running kernel's programs,
  as bpftool lists them (needs root or CAP_BPF).
`;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const json = Boolean(values.json || values.pretty);
  const [file, progName, ...extra] = positionals;
  // bpftool's grammar: nothing, `id N` or `pinned PATH` name the kernel's programs
  if (file === undefined || file === 'id' || file === 'pinned') return (await import('./kernel-show.js')).showKernel('prog', args);
  if (extra.length) throw new CliUsageError(`unexpected '${extra[0]}'`);
  const infos = await objectPrograms(file, progName, { interpret: values.interpret === true, json });
  // bpftool: one program named prints as an object, a listing as an array
  if (json) process.stdout.write(jsonText(progName !== undefined && infos.length === 1 ? infos[0] : infos, values.pretty));
  else process.stdout.write(infos.map(progPlain).join(''));
  return 0;
}

async function objectPrograms(file: string, progName: string | undefined, o: { interpret: boolean; json: boolean }): Promise<ProgInfo[]> {
  const spec = loadObjectFileSync(file);
  if (progName !== undefined && !spec.programs.has(progName))
    throw new TsbpfError('ENOENT', `no program '${progName}' in ${file} (it has: ${[...spec.programs.keys()].join(', ')})`);
  const rt = new Runtime(o.interpret ? { engine: 'interpreter' } : {});
  try {
    const bar = progress('loading', 0, o);
    bar.update(0, file);
    const coll = await rt.load(spec, progName !== undefined ? { programs: [progName] } : {}).finally(() => bar.end());
    const loadedAt = Math.floor(Date.now() / 1000);
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    return [...coll.programs.values()].map((p) => {
      const compiled = (p.executable as { compiled?: { bytes: Uint8Array } }).compiled;
      const mapIds = new Set<number>();
      for (const r of p.spec.references) {
        if ((r.kind !== 'map' && r.kind !== 'map_value') || r.map === undefined) continue;
        const m = coll.maps.get(r.map);
        if (m) mapIds.add(m.id);
      }
      return {
        id: p.id,
        type: p.type,
        name: p.name,
        tag: progTag(p.spec.insns),
        gpl_compatible: /^(GPL|GPL v2|GPL and additional rights|Dual BSD\/GPL|Dual MIT\/GPL|Dual MPL\/GPL)$/.test(p.spec.license),
        loaded_at: loadedAt,
        uid,
        bytes_xlated: p.insns.length * 8,
        jited: compiled !== undefined,
        ...(compiled ? { bytes_jited: compiled.bytes.length } : {}),
        ...(mapIds.size ? { map_ids: [...mapIds].sort((a, b) => a - b) } : {}),
      };
    });
  } finally {
    rt.close();
  }
}
