/**
 * From an object's specs to the verifier's input: the maps a program refers
 * to (with .rodata contents, frozen and read-only for programs, as libbpf
 * creates them) and which map each lddw names. The instructions are the
 * object layer's linked ones (object/relocate.ts coreRelocated): libbpf
 * relocates before the kernel verifies.
 */
import { mapValueFields } from './spin-lock.js';
import type { CollectionSpec, MapSpec, ProgramSpec } from '../object/spec.js';
import type { Btf } from '../object/btf/btf.js';
import { coreRelocated, type CoreOptions } from '../object/relocate.js';
import { TsbpfError } from '../errors.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import type { VerifierInput, VerifierMapInfo } from './env.js';
import { kernelBtf } from './kernel-btf.js';

const BPF_F_RDONLY_PROG = 0x80;

function mapInfoOf(m: MapSpec): VerifierMapInfo {
  const info: VerifierMapInfo = {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags | (m.freeze ? BPF_F_RDONLY_PROG : 0),
  };
  if (m.freeze) info.frozen = true;
  if (m.innerMap) info.inner = mapInfoOf(m.innerMap);
  const c = m.contents?.[0];
  if (c && 'value' in c) info.contents = c.value;
  else if (m.freeze) info.contents = new Uint8Array(m.valueSize);
  return info;
}

/** The map's value BTF: that it has one, and where its lock and timer are (spin-lock.ts). */
function withValueFields(info: VerifierMapInfo, m: MapSpec, btf: Btf | undefined): VerifierMapInfo {
  // a map of maps: the inner map's value has its fields too (a lookup in it yields such values)
  const inner = info.inner && m.innerMap ? withValueFields(info.inner, m.innerMap, btf) : info.inner;
  if (!btf || !m.btfValueTypeId) return inner === info.inner ? info : { ...info, inner: inner! };
  const fields = mapValueFields(btf, m.btfValueTypeId);
  return { ...info, btf: true, ...(fields ? { fields } : {}), ...(inner ? { inner } : {}) };
}

export function inputFromSpec(
  coll: CollectionSpec,
  prog: ProgramSpec,
  opts: Pick<VerifierInput, 'privileged' | 'logLevel' | 'helpers' | 'kernelBtf' | 'kernelSymbols'> & { coreTarget?: Btf; core?: CoreOptions } = {},
): VerifierInput {
  const { coreTarget, core, ...rest } = opts;
  // bpf_object_load_prog: a program whose section named no type fails before the kernel sees it
  if (prog.typeError) throw new TsbpfError('EINVAL', `prog '${prog.name}': ${prog.typeError}`);
  if (prog.type === 'struct_ops') structOpsPrepare(prog, opts.kernelBtf);
  const maps: VerifierMapInfo[] = [];
  const index = new Map<string, number>();
  const byInsn = new Map<number, number>();
  for (const ref of prog.references) {
    if ((ref.kind !== 'map' && ref.kind !== 'map_value') || !ref.map) continue;
    let k = index.get(ref.map);
    if (k === undefined) {
      const spec = coll.maps.get(ref.map);
      if (!spec) continue;
      k = maps.length;
      maps.push(withValueFields(mapInfoOf(spec), spec, coll.btf));
      index.set(ref.map, k);
    }
    byInsn.set(ref.index, k);
  }
  const kfuncs = new Map<number, string>();
  for (const ref of prog.references) if (ref.kind === 'kfunc' && ref.symbol) kfuncs.set(ref.index, ref.symbol);
  const ksyms = new Map<number, string>();
  for (const ref of prog.references) if (ref.kind === 'btf_id' && ref.symbol) ksyms.set(ref.index, ref.symbol);
  const input: VerifierInput = {
    insns: coreRelocated(prog, coll.btf, coreTarget, core),
    progType: prog.type,
    maps,
    mapOfInsn: (i) => byInsn.get(i),
    license: prog.license,
    ...rest,
  };
  if (kfuncs.size) input.kfuncOfInsn = (i) => kfuncs.get(i);
  if (ksyms.size) input.ksymOfInsn = (i) => ksyms.get(i);
  resolveKsyms(prog, input.insns, opts.kernelBtf ?? kernelBtf());
  if (prog.attachType) input.attachType = prog.attachType;
  if (prog.attachTo) input.attachTo = prog.attachTo;
  if (prog.structOps) input.structOps = prog.structOps;
  if (prog.lineInfo) input.lineInfo = prog.lineInfo;
  if (prog.sleepable) input.sleepable = true;
  if (prog.funcInfo) input.funcInfo = prog.funcInfo;
  if (coll.btf !== undefined) input.btf = coll.btf;
  return input;
}

/**
 * libbpf bpf_object__resolve_ksyms_btf_id for the `__ksym` externs a program
 * loads (typed ksyms, kfuncs named as values): each lddw gets its kernel BTF
 * id, and a weak one the kernel lacks loads 0 (bpf_ksym_exists() is then
 * false). A missing strong one keeps id 0, which the verifier refuses.
 */
function resolveKsyms(prog: ProgramSpec, insns: readonly Insn[], kernel: Btf): void {
  for (const ref of prog.references) {
    if (ref.kind !== 'btf_id' || !ref.symbol) continue;
    const t = kernel.typeByName(ref.symbol, ref.ksymFunc ? 'func' : 'var');
    const ins = insns[ref.index];
    if (!ins) continue;
    if (t) ins.imm = t.id;
    else if (ref.weak) ins.src = 0;
  }
}

/**
 * What libbpf refuses of a struct_ops program before the kernel sees it: one that fills no
 * slot of a `.struct_ops` map (libbpf 1.4+: "isn't referenced anywhere", EINVAL), and, against
 * a kernel BTF given, one whose ops struct that BTF does not register
 * (find_struct_ops_kern_types, while it creates the object's struct_ops maps: ESRCH).
 */
function structOpsPrepare(prog: ProgramSpec, kernel: Btf | undefined): void {
  if (!prog.structOps)
    throw new TsbpfError('EINVAL', `prog '${prog.name}': SEC("struct_ops") program isn't referenced anywhere, did you forget to use it?`);
  const { struct } = prog.structOps;
  for (const name of [`bpf_struct_ops_${struct}`, struct])
    if (kernel && !kernel.typeByName(name, 'struct'))
      throw new TsbpfError('ESRCH', `struct_ops init_kern: struct ${name} is not found in kernel BTF`);
}
