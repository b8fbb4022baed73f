/**
 * `tsbpf prog load FILE [PROG] [--log-level 1|2] [--unprivileged] [-j]`:
 * verify every program of an object (or the named one) as the kernel would
 * at BPF_PROG_LOAD, print the verdict (and the log at level 1 or 2), and
 * exit 0 when all are accepted.
 */
import { CliUsageError, JSON_OPTS, parse } from '../args.js';
import { TsbpfError } from '../../errors.js';
import { loadObjectFile } from '../../object/file.js';
import { verify } from '../../verifier/index.js';
import { inputFromSpec } from '../../verifier/spec-input.js';
import { loadBtfFile } from '../../object/btf/file.js';
import { readFile } from 'node:fs/promises';
import { defaultHelpers } from '../../helpers/index.js';
import { getFuncIp } from '../../hooks/uprobe.js';

export const usage = `Usage: tsbpf prog load FILE [PROG] [--log-level 1|2] [--unprivileged] [--kernel-btf BTF] [-j]
  Verifies the programs of a BPF object file. Prints the kernel-style
  verifier log at --log-level 1 (path and rejection) or 2 (every
  instruction's state), and for a rejected program an explanation: the
  rule broken, the source line, the registers involved, a hint and the
  branch decisions that led there. Exits 0 when every program is accepted.
  CO-RE relocations are applied first, against tsbpf's own types or, with
  --kernel-btf (bpftool's kernel_btf), against that BTF file (e.g.
  /sys/kernel/btf/vmlinux), which also types fentry/fexit/tp_btf targets.
`;

export async function run(args: string[]): Promise<number> {
  // `tsbpf prog load X --log-level 2 | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  const { positionals, values } = parse(args, {
    ...JSON_OPTS,
    'log-level': { type: 'string', short: 'l' },
    unprivileged: { type: 'boolean' },
    'kernel-btf': { type: 'string' },
  });
  if (positionals.length < 1 || positionals.length > 2) throw new CliUsageError('expected FILE [PROG]');
  const level = values['log-level'] === undefined ? 0 : Number(values['log-level']);
  if (![0, 1, 2].includes(level)) throw new CliUsageError('--log-level must be 0, 1 or 2');
  const [file, name] = positionals as [string, string | undefined];
  const coll = await loadObjectFile(file);
  const kernelBtf = values['kernel-btf'] === undefined ? undefined : loadBtfFile(new Uint8Array(await readFile(String(values['kernel-btf']))));
  let progs = [...coll.programs.values()];
  if (name !== undefined) {
    progs = progs.filter((p) => p.name === name || p.section === name);
    if (!progs.length) {
      process.stderr.write(`Error: no program named '${name}' in ${file} (have: ${[...coll.programs.keys()].join(', ')})\n`);
      return 1;
    }
  }
  // The helpers a program gets when it is loaded for tsbpf's hooks: the runtime's, plus the probe helper bpf_get_func_ip.
  const registry = defaultHelpers();
  registry.register(getFuncIp);
  const helpers = (id: number) => registry.get(id);
  const json = Boolean(values.json || values.pretty);
  const results: unknown[] = [];
  let failed = 0;
  for (const p of progs) {
    let input;
    try {
      input = inputFromSpec(coll, p, { privileged: !values.unprivileged, logLevel: level as 0 | 1 | 2, helpers, ...(kernelBtf ? { coreTarget: kernelBtf, kernelBtf } : {}) });
    } catch (e) {
      // A CO-RE relocation the target cannot satisfy fails this program's load before the verifier (libbpf's order); the others still load.
      if (!(e instanceof TsbpfError)) throw e;
      failed++;
      if (json) results.push({ name: p.name, section: p.section, type: p.type, accepted: false, error: { errno: e.errno, message: e.message } });
      else process.stdout.write(`${p.name}: rejected (${e.errno})\n${e.message}\n`);
      continue;
    }
    const res = verify(input);
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
                path: res.error.path,
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
      process.stdout.write(`${p.name}: rejected (${res.error!.errno})\n${res.error!.explain()}\n`);
    }
  }
  if (json) process.stdout.write(JSON.stringify(name !== undefined && results.length === 1 ? results[0] : results, null, values.pretty ? 2 : undefined) + '\n');
  return failed ? 1 : 0;
}
