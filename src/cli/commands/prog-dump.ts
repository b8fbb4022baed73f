/**
 * `tsbpf prog dump xlated FILE PROG [linum] [opcodes] [-j]` and
 * `tsbpf prog dump jited FILE PROG`: bpftool's `prog dump`, on a program of
 * an object file as tsbpf loads it.
 *
 * xlated is the program after loading (lddw map references resolved, shown
 * as bpftool shows them: `map[id:N]`, `map[id:N][0]+OFF`), interleaved with
 * the C source lines of BTF line_info and the function signatures of
 * func_info, as `bpftool prog dump xlated` prints them (`linum` adds
 * `[file:F line_num:N line_col:C]`). jited is the WebAssembly module the JIT
 * emits for it, in text form.
 */
import { TsbpfError } from '../../errors.js';
import { CliUsageError, parse, JSON_OPTS, type OptionSpec, jsonText } from '../args.js';
import { formatInsn, disassembleLines } from '../../isa/disasm.js';
import { lddwImm64, type Insn } from '../../isa/insn.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../../isa/opcodes.js';
import { loadObjectFileSync } from '../../object/file.js';
import { withHostKconfig } from '../host-kconfig.js';
import { formatWithLines } from '../../object/btf/lines.js';
import { Runtime } from '../../runtime/index.js';
import type { BpfMap } from '../../maps/map.js';
import { ArrayMap } from '../../maps/array.js';
import { KERNEL_BTF_OPTION, KERNEL_BTF_USAGE, kernelBtfOption } from '../btf-input.js';

export const options: OptionSpec = { ...JSON_OPTS, ...KERNEL_BTF_OPTION };

export const usage = `Usage: tsbpf prog dump xlated FILE PROG [linum] [--kernel-btf F] [-j|-p]
       tsbpf prog dump jited FILE PROG [--kernel-btf F]
  xlated: program PROG of object FILE as loaded (map references as map[id:N],
  CO-RE relocations applied), with its C source lines; linum adds
  [file:F line_num:N line_col:C].
  jited: the WebAssembly module the JIT emits for it, as text.
${KERNEL_BTF_USAGE}`;

/** bpftool's text for a resolved map lddw: the map's id, and for direct value access the offset. */
function mapImm(maps: Iterable<BpfMap<unknown>>): (insns: readonly Insn[], i: number) => string | undefined {
  const all = [...maps];
  return (insns, i) => {
    const src = insns[i]!.src;
    if (src !== BPF_PSEUDO_MAP_FD && src !== BPF_PSEUDO_MAP_VALUE) return undefined;
    const addr = Number(lddwImm64(insns, i));
    if (src === BPF_PSEUDO_MAP_FD) {
      const m = all.find((x) => x.addr === addr);
      return m ? `map[id:${m.id}]` : undefined;
    }
    for (const m of all) {
      if (!(m instanceof ArrayMap)) continue;
      const base = m.valuesAddr;
      if (addr >= base && addr < base + m.valueSize) return `map[id:${m.id}][0]+${addr - base}`;
    }
    return undefined;
  };
}

export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parse(args, options);
  const [kind, file, progName, ...rest] = positionals;
  if ((kind !== 'xlated' && kind !== 'jited') || !file || !progName) throw new CliUsageError('expected xlated|jited FILE PROG');
  const linum = rest.includes('linum');
  const spec = await withHostKconfig(loadObjectFileSync(file));
  if (!spec.programs.has(progName))
    throw new TsbpfError('ENOENT', `no program '${progName}' in ${file} (it has: ${[...spec.programs.keys()].join(', ')})`);
  const kernelBtf = kernelBtfOption(values);
  const rt = new Runtime({ engine: kind === 'jited' ? 'jit' : 'interpreter', ...(kernelBtf ? { kernelBtf } : {}) });
  try {
    const coll = await rt.load(spec, { programs: [progName] });
    const prog = coll.programs.get(progName);
    if (!prog) throw new TsbpfError('ENOENT', `program '${progName}' was not loaded`);
    if (kind === 'jited') {
      const { dumpJited } = await import('../../vm/jit/wat.js');
      process.stdout.write(dumpJited(prog.executable.image));
      return 0;
    }
    const opts = { imm64: mapImm(coll.maps.values()), ll: false };
    if (values.json) {
      const lines = disassembleLines(prog.insns, opts).map((l) => ({ index: l.index, code: l.code, text: l.text }));
      process.stdout.write(jsonText(lines, values.pretty));
      return 0;
    }
    const ps = prog.spec;
    if (spec.btf && (ps.lineInfo?.length || ps.funcInfo?.length)) {
      process.stdout.write(
        formatWithLines(
          prog.insns,
          { btf: spec.btf, funcInfo: ps.funcInfo ?? [], lineInfo: ps.lineInfo ?? [] },
          (i) => formatInsn(prog.insns, i, opts),
          { linum },
        ),
      );
    } else {
      for (const l of disassembleLines(prog.insns, opts))
        process.stdout.write(`${String(l.index).padStart(4)}: (${l.code.toString(16).padStart(2, '0')}) ${l.text}\n`);
    }
    return 0;
  } finally {
    rt.close();
  }
}
