/**
 * From an object's specs to the verifier's input: the maps a program refers
 * to (with .rodata contents, frozen and read-only for programs, as libbpf
 * creates them) and which map each lddw names.
 */
import type { CollectionSpec, MapSpec, ProgramSpec } from '../object/spec.js';
import type { Btf } from '../object/btf/btf.js';
import { applyCoreRelocations, type CoreCandCache, type CoreLog, type CoreModules } from '../object/btf/core.js';
import { contextBtf } from '../object/btf/context.js';
import type { CoreRelo } from '../object/btf/ext.js';
import { cloneInsns, type Insn } from '../isa/insn.js';
import { TsbpfError } from '../errors.js';
import type { VerifierInput, VerifierMapInfo } from './env.js';

/**
 * A program's instructions with its CO-RE relocations applied (a patched
 * copy). libbpf's bpf_object__relocate_core runs before map resolution, so
 * the kernel's verifier only ever sees relocated offsets; `tsbpf prog load`
 * and the runtime's loader both go through here. The target is tsbpf's own
 * types (contextBtf) unless one is given. As libbpf, an instruction whose
 * relocation the target cannot satisfy is poisoned (refused by the verifier
 * only if reachable); what libbpf refuses outright (ambiguous candidates, an
 * instruction that does not hold the local value) is a CoreRelocationError.
 * `log` receives libbpf's debug lines; `cache` shares the candidate lists
 * between the programs of one object, as libbpf's cand_cache does.
 */
export function coreRelocated(prog: ProgramSpec, local: Btf | undefined, target?: Btf, opts: CoreOptions = {}): Insn[] {
  if (!prog.coreRelos?.length) return cloneInsns(prog.insns);
  // the records name types of the object's BTF: without it they cannot be read
  if (!local) throw new TsbpfError('EINVAL', `${prog.name}: CO-RE relocations without the object's BTF`);
  return applyCoreRelocations(prog.insns, prog.coreRelos as CoreRelo[], local, target ?? contextBtf(), { prog: prog.name, ...opts });
}

/** How a CO-RE pass reports and shares its work (see coreRelocated). */
export interface CoreOptions {
  log?: CoreLog;
  cache?: CoreCandCache;
  /** kernel modules' BTF, searched when vmlinux has no candidate (libbpf load_module_btfs) */
  modules?: CoreModules;
}

const BPF_F_RDONLY_PROG = 0x80;

export function mapInfoOf(m: MapSpec): VerifierMapInfo {
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

export function inputFromSpec(
  coll: CollectionSpec,
  prog: ProgramSpec,
  opts: Pick<VerifierInput, 'privileged' | 'logLevel' | 'helpers' | 'kernelBtf'> & { coreTarget?: Btf; core?: CoreOptions } = {},
): VerifierInput {
  const { coreTarget, core, ...rest } = opts;
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
      maps.push(mapInfoOf(spec));
      index.set(ref.map, k);
    }
    byInsn.set(ref.index, k);
  }
  const kfuncs = new Map<number, string>();
  for (const ref of prog.references) if (ref.kind === 'kfunc' && ref.symbol) kfuncs.set(ref.index, ref.symbol);
  const input: VerifierInput = {
    insns: coreRelocated(prog, coll.btf, coreTarget, core),
    progType: prog.type,
    maps,
    mapOfInsn: (i) => byInsn.get(i),
    license: prog.license,
    ...rest,
  };
  if (kfuncs.size) input.kfuncOfInsn = (i) => kfuncs.get(i);
  if (prog.attachType) input.attachType = prog.attachType;
  if (prog.attachTo) input.attachTo = prog.attachTo;
  if (prog.lineInfo) input.lineInfo = prog.lineInfo;
  if (prog.sleepable) input.sleepable = true;
  if (prog.funcInfo) input.funcInfo = prog.funcInfo;
  if (coll.btf !== undefined) input.btf = coll.btf;
  return input;
}
