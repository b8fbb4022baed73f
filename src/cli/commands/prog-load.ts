/**
 * `tsbpf prog load FILE [PROG] [--log-level 1|2] [--unprivileged] [-j]`:
 * verify every program of an object (or the named one) as the kernel would
 * at BPF_PROG_LOAD, print the verdict (and the log at level 1 or 2), and
 * exit 0 when all are accepted.
 */
import { CliUsageError, JSON_OPTS, parse, type OptionSpec, jsonText } from '../args.js';
import { TsbpfError } from '../../errors.js';
import { loadObjectFileSync } from '../../object/file.js';
import { withHostKconfig } from '../host-kconfig.js';
import { ProgType, type ProgTypeName } from '../../object/spec.js';
import { verify } from '../../verifier/index.js';
import { inputFromSpec } from '../../verifier/spec-input.js';
import { KERNEL_BTF_OPTION, KERNEL_BTF_USAGE, kernelBtfOption } from '../btf-input.js';
import { runningKernelSymbols } from '../kallsyms.js';
import { progress } from '../progress.js';
import { defaultHelpers } from '../../helpers/index.js';
import { getFuncIp } from '../../hooks/uprobe.js';
import { checkMapSpec } from '../../maps/index.js';
import { mapAsCreated } from '../../object/maps.js';
import { availableParallelism } from 'node:os';
import type { MapSpec } from '../../object/spec.js';

export const options: OptionSpec = {
  ...JSON_OPTS,
  'log-level': { type: 'string', short: 'l' },
  unprivileged: { type: 'boolean' },
  iproute2: { type: 'boolean' },
  type: { type: 'string' },
  ...KERNEL_BTF_OPTION,
  kernel: { type: 'boolean' },
};

export const usage = `Usage: tsbpf prog load FILE [PROG] [-l|--log-level 0|1|2] [--unprivileged] [--iproute2] [--type TYPE] [--kernel-btf BTF] [-d] [-j|-p]
  Verifies the programs of a BPF object file (or the one named PROG, by name
  or section) as the kernel does at BPF_PROG_LOAD. Exits 0 when every program
  is accepted; an object without programs is an error (ENOENT), as in bpftool. For a rejected program: an explanation (the rule broken, the
  source line, the registers involved, a hint, the last branch decisions
  that led there).
  --log-level 1   the kernel-style verifier log of every path (2: every instruction's state)
  -d, --debug     the whole log of a rejected program and every branch decision of its path,
                  and libbpf's CO-RE relocation lines (on stderr, as bpftool -d prints them)
  --unprivileged  verify as for a caller without CAP_BPF / CAP_PERFMON
  --iproute2      read the object as tc's and ip's own loader did, where libbpf 1.x refuses it:
                  static programs, code sections without function symbols (one program each),
                  iproute2's map pinning (docs/objects.md)
  --type TYPE     every program is of TYPE (sched_cls, xdp, socket_filter, ...), whatever its
                  section says: bpftool's 'type', tc's and ip's choice by command
${KERNEL_BTF_USAGE}  A terminal shows progress on stderr while programs are verified.
       tsbpf prog load FILE PATH --kernel [pinmaps DIR] [autoattach]
                      [map { name NAME | idx N } { id N | pinned PATH }]... [-l 1|2] [-j]
  Loads the object into the running kernel (root or CAP_BPF) and pins its first
  program at PATH, as bpftool prog load ('tsbpf prog loadall' pins every program).
  A program the kernel refuses: the kernel's message and tsbpf's explanation.
`;

/** Branch decisions of a rejection's path shown without -d or a log level: the last few. */
const PATH_SHOWN = 8;

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const debug = process.env.TSBPF_DEBUG === '1';
  const asked = values['log-level'] === undefined ? 0 : Number(values['log-level']);
  if (![0, 1, 2].includes(asked)) throw new CliUsageError('--log-level must be 0, 1 or 2');
  // -d, as bpftool's: the verifier's log (level 1 at least) and every branch of a rejection's path
  const level = debug ? Math.max(asked, 1) : asked;
  if (values.kernel) {
    if (values.unprivileged || values.iproute2 || values.type !== undefined || values['kernel-btf'] !== undefined) throw new CliUsageError('--unprivileged, --iproute2, --type and --kernel-btf are for tsbpf\'s verifier; the kernel uses its own BTF and your privileges, and libbpf reads the object');
    const { loadKernel } = await import('../kernel-load.js');
    return loadKernel(positionals, { all: false, json: Boolean(values.json || values.pretty), pretty: Boolean(values.pretty), logLevel: asked as 0 | 1 | 2, debug });
  }
  if (positionals.length < 1 || positionals.length > 2) throw new CliUsageError('expected FILE [PROG]');
  const [file, name] = positionals as [string, string | undefined];
  const coll = await withHostKconfig(loadObjectFileSync(file, values.iproute2 ? { loader: 'iproute2' } : {}));
  const kernelBtf = kernelBtfOption(values);
  const kernelSymbols = runningKernelSymbols(values['kernel-btf']);
  const type = values.type as string | undefined;
  if (type !== undefined && !(type in ProgType && type !== 'unspec')) throw new CliUsageError(`--type: unknown program type '${type}' (bpftool's names: ${Object.keys(ProgType).filter((t) => t !== 'unspec').join(', ')})`);
  // bpftool's `type`: bpf_program__set_type on every program, so the section no longer decides
  let progs = [...coll.programs.values()].map((p) => (type === undefined ? p : { ...p, type: type as ProgTypeName, typeError: undefined }));
  // bpftool's load_with_options: an object without programs is an error, not a silent success
  if (!progs.length) throw new TsbpfError('ENOENT', `object file doesn't contain any bpf program: ${file} (no executable section holds a program)`);
  if (name !== undefined) {
    progs = progs.filter((p) => p.name === name || p.section === name);
    if (!progs.length) {
      process.stderr.write(`Error: no program named '${name}' in ${file} (have: ${[...coll.programs.keys()].join(', ')})\n`);
      return 1;
    }
  }
  // bpftool creates the object's maps before any program (bpf_object__load): a map the kernel
  // refuses fails every program with libbpf's "map 'NAME': failed to create". A type tsbpf does
  // not implement (EOPNOTSUPP) is tsbpf's limit, not the kernel's verdict, and does not count.
  const mapRefusal = refusedMap(coll.maps.values());
  // The helpers a program gets when it is loaded for tsbpf's hooks: the runtime's, plus the probe helper bpf_get_func_ip.
  const registry = defaultHelpers();
  registry.register(getFuncIp);
  const helpers = (id: number) => registry.get(id);
  const json = Boolean(values.json || values.pretty);
  const results: unknown[] = [];
  let failed = 0;
  const bar = progress('verifying', progs.length, { json });
  // -d prints libbpf's CO-RE lines as bpftool -d does; one candidate cache per object, as libbpf's
  const core = { cache: new Map(), ...(debug ? { log: (l: string) => process.stderr.write(`libbpf: ${l}\n`) } : {}) };
  for (const [n, p] of progs.entries()) {
    bar.update(n, `${p.name} (${p.insns.length} insns)`);
    if (mapRefusal) {
      failed++;
      if (json) results.push({ name: p.name, section: p.section, type: p.type, accepted: false, error: { errno: mapRefusal.errno, message: mapRefusal.message } });
      else process.stdout.write(`${p.name}: rejected (${mapRefusal.errno})\n${mapRefusal.message}\n`);
      continue;
    }
    let input;
    try {
      input = inputFromSpec(coll, p, { privileged: !values.unprivileged, logLevel: level as 0 | 1 | 2, helpers, core, ...(kernelBtf ? { coreTarget: kernelBtf, kernelBtf } : {}), ...(kernelSymbols ? { kernelSymbols } : {}) });
    } catch (e) {
      // A CO-RE relocation the target cannot satisfy fails this program's load before the verifier (libbpf's order); the others still load.
      if (!(e instanceof TsbpfError)) throw e;
      failed++;
      if (json) results.push({ name: p.name, section: p.section, type: p.type, accepted: false, error: { errno: e.errno, message: e.message } });
      else process.stdout.write(`${p.name}: rejected (${e.errno})\n${e.message}\n`);
      continue;
    }
    const res = verify(input);
    bar.end();
    if (!res.ok) failed++;
    if (json) {
      results.push({
        name: p.name,
        section: p.section,
        type: p.type,
        accepted: res.ok,
        processed_insns: res.stats.processedInsns,
        total_states: res.stats.totalStates,
        peak_states: res.stats.peakStates,
        stack_depth: res.stats.stackDepth,
        time_us: res.stats.timeUs,
        ...(res.error
          ? {
              error: {
                errno: res.error.errno,
                insn: res.error.insnIndex,
                message: res.error.kernelMessage,
                rule: res.error.rule,
                hint: res.error.hint,
                registers: res.error.registers,
                path: level > 0 ? res.error.path : res.error.path.slice(-PATH_SHOWN),
                path_length: res.error.path.length,
                source: res.error.sourceLine,
              },
            }
          : {}),
        ...(level > 0 ? { log: res.log } : {}),
      });
      continue;
    }
    if (level > 0) process.stdout.write(`-- ${p.name} (${p.section}) --\n${res.log}`);
    if (res.ok) {
      process.stdout.write(`${p.name}: accepted (${res.stats.processedInsns} insns processed, stack ${res.stats.stackDepth.join('+')} bytes, ${res.stats.timeUs} us)\n`);
    } else {
      const e = res.error!;
      process.stdout.write(`${p.name}: rejected (${e.errno})\n${e.explain({ maxPath: level > 0 ? Infinity : PATH_SHOWN })}\n`);
      if (e.path.length > PATH_SHOWN && !(level > 0)) process.stdout.write(`  (every branch decision and the whole log: -d, or --log-level 1)\n`);
    }
  }
  if (json) process.stdout.write(jsonText(name !== undefined && results.length === 1 ? results[0] : results, values.pretty));
  return failed ? 1 : 0;
}

/** The first map the kernel would refuse to create (checkMapSpec, as map_create does), as libbpf reports it. */
export function refusedMap(maps: Iterable<MapSpec>): TsbpfError | undefined {
  for (const ms of maps) {
    try {
      checkMapSpec(mapAsCreated(ms, availableParallelism()));
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      if (e.errno === 'EOPNOTSUPP') continue;
      return new TsbpfError(e.errno, `failed to create ${e.message}`);
    }
  }
  return undefined;
}
