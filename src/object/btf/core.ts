/**
 * CO-RE: compile once, run everywhere (libbpf's relo_core.c semantics).
 *
 * clang records, for each instruction that encodes a layout fact of a type
 * (`__builtin_preserve_access_index`, `BPF_CORE_READ`, `bpf_core_field_exists`,
 * `bpf_core_type_size`, `bpf_core_enum_value`, ...), a relocation: the local
 * root type, an access string ("0:1:2": an index into an array of the root,
 * then member or element indices) and what is wanted (byte offset, size,
 * existence, signedness, bitfield shifts, type id/existence/size, enumerator
 * existence/value). At load time the loader finds the same type in the
 * *target* BTF (the kernel's in libbpf; tsbpf's own context and tracepoint
 * types here), walks the same access path there by member *name*, and
 * patches the instruction's immediate or offset with the target's value.
 *
 * Rules followed (libbpf): candidates are target types of the same kind whose
 * name equals the local name with any `___flavor` suffix stripped; members
 * match by name (searching through anonymous structs/unions) and compatible
 * kind; several matching candidates must agree; a missing target makes the
 * existence checks 0, and is an error for everything else.
 *
 * This module finds the candidates and decides a relocation; core-spec.ts
 * holds the access-path spec, core-compat.ts the matching, core-calc.ts the
 * values and core-patch.ts the instruction patching.
 */
import type { Btf } from './btf.js';
import { essentialName } from './flavor.js';
import type { Errno } from '../../errors.js';
import { CORE_RELO_KINDS, type CoreRelo } from './ext.js';
import type { BtfType } from './types.js';
import type { Insn } from '../../isa/insn.js';
import { type Spec, CoreRelocationError, KIND_STR, isFieldKind, isTypeKind, isEnumvalKind, kindName, parseSpec, formatSpec, resetSteps } from './core-spec.js';
import { matchSpec } from './core-compat.js';
import { POISON, calcField, calcType, calcEnumval } from './core-calc.js';
import { patchInsn } from './core-patch.js';

export { essentialName, CoreRelocationError };
export { POISON_HELPER_ID } from './core-patch.js';

/** The outcome of one relocation (libbpf's struct bpf_core_relo_res). */
export interface CoreResult {
  relo: CoreRelo;
  /** the value computed against the local (object's) BTF */
  local: number | bigint;
  /** the value against the target BTF */
  target: number | bigint;
  /** the instruction cannot be relocated: it becomes a call to an invalid helper (bpf_core_poison_insn) */
  poison: boolean;
  /** field size on each side, for load/store size adjustment (0: not applicable) */
  localSize: number;
  targetSize: number;
  /** the sizes differ and the field is neither a pointer nor unsigned: a load/store of it is poisoned */
  failMemszAdjust: boolean;
  validate: boolean;
  /** target type id the relocation resolved to (0 if none) */
  targetTypeId: number;
  /** the BTF that id is in: 'vmlinux' or a module's name (undefined if none) */
  targetBtf?: string;
}

/** A target type a relocation may resolve to: its id in `btf`, and where that BTF is from ('vmlinux' or a module's name). */
export interface CoreCand {
  btf: Btf;
  id: number;
  where: string;
}

/** Candidate lists by local root type id, shared by the relocations of one object (libbpf's cand_cache). */
export type CoreCandCache = Map<number, CoreCand[]>;

/** A kernel module's BTF: split BTF whose base is the vmlinux target (/sys/kernel/btf/<name>). */
export interface CoreModule {
  name: string;
  btf: Btf;
}

/** The modules, or a function giving them when first needed (reading them costs; most relocations find vmlinux candidates). */
export type CoreModules = readonly CoreModule[] | (() => readonly CoreModule[]);

/** What a relocation pass logs (libbpf's pr_debug/pr_warn lines, without the `libbpf: ` prefix). */
export type CoreLog = (line: string) => void;

const btfKindCompat = (a: BtfType, b: BtfType): boolean =>
  a.kind === b.kind || ((a.kind === 'enum' || a.kind === 'enum64') && (b.kind === 'enum' || b.kind === 'enum64'));

/**
 * bpf_core_find_cands / bpf_core_add_cands: target types of a compatible
 * kind (enum and enum64 interchangeable) whose essential name (before a
 * `___flavor`) equals the local root's, in id order. The local root is
 * taken as it is (a typedef root finds typedefs). As libbpf does, vmlinux
 * is searched first; only when it has none are the modules' own types
 * searched (each module's BTF is split on vmlinux, so its candidates are
 * resolved in it).
 */
function findCands(local: Btf, localId: number, target: Btf, log?: CoreLog, modules: CoreModules = []): CoreCand[] {
  const lt = local.typeById(localId);
  const ess = essentialName(lt.name);
  const out: CoreCand[] = [];
  const add = (btf: Btf, where: string, from: number): void => {
    for (const id of btf.idsByEssentialName(ess)) {
      if (id < from) continue; // a module's base types were searched as vmlinux's
      const t = btf.typeById(id);
      if (!btfKindCompat(t, lt)) continue;
      log?.(`CO-RE relocating [${localId}] ${lt.kind} ${lt.name}: found target candidate [${id}] ${t.kind} ${t.name} in [${where}]`);
      out.push({ btf, id, where });
    }
  };
  add(target, 'vmlinux', 0);
  if (out.length) return out;
  for (const m of typeof modules === 'function' ? modules() : modules) add(m.btf, m.name, m.btf.base?.types.length ?? 0);
  return out;
}

/**
 * Compute one relocation against `target`: libbpf's bpf_core_calc_relo_insn.
 * A relocation no candidate satisfies gives 0 for the existence kinds and
 * type-based kinds, and poisons the instruction otherwise; candidates that
 * disagree, a malformed access string or an anonymous root are errors.
 */
export function calcCoreRelocation(
  relo: CoreRelo,
  local: Btf,
  target: Btf,
  opts: { prog?: string; cache?: CoreCandCache; log?: CoreLog; modules?: CoreModules } = {},
): CoreResult {
  const prog = opts.prog ?? relo.func ?? '?';
  const idx = relo.reloIdx ?? 0;
  const log = opts.log;
  const at = `prog '${prog}': relo #${idx}:`;
  const fail = (errno: Errno, why: string): never => {
    log?.(`${at} ${why}`);
    throw new CoreRelocationError(relo.insnOff, relo, kindName(local.typeById(relo.typeId)), why, errno, prog);
  };
  const root = local.typeById(relo.typeId);
  resetSteps();
  // bpf_core_resolve_relo: the candidates first (cached per local type), then the relocation
  let cands = relo.kind === 'type_id_local' ? [] : opts.cache?.get(relo.typeId);
  if (!cands) {
    if (root.name === '') fail('EINVAL', `target candidate search failed for [${relo.typeId}] ${root.kind} : -22`);
    cands = findCands(local, relo.typeId, target, log, opts.modules);
    opts.cache?.set(relo.typeId, cands);
  }
  let ls: Spec;
  try {
    ls = parseSpec(local, relo);
  } catch (e) {
    if (!(e instanceof CoreRelocationError)) throw e;
    return fail('EINVAL', `parsing [${relo.typeId}] ${root.kind} ${root.name || '<anon>'} + ${relo.accessStr} failed: -22 (${e.why})`);
  }
  log?.(`${at} ${formatSpec(ls, relo.kind)}`);
  const res: CoreResult = {
    relo, local: 0, target: 0, poison: false, localSize: 0, targetSize: 0, failMemszAdjust: false, validate: true, targetTypeId: 0,
  };
  if (relo.kind === 'type_id_local') {
    // the type id in the instruction may have changed in linking: not validated
    return { ...res, local: relo.typeId, target: relo.typeId, validate: false, targetTypeId: relo.typeId };
  }
  /** bpf_core_calc_relo: both sides' values for one target spec (undefined: no target) */
  const calc = (ts: Spec | undefined, tb: Btf = target): CoreResult => {
    const r: CoreResult = { ...res };
    if (isFieldKind(relo.kind)) {
      const l = calcField(ls, relo.kind, local.endian, fail);
      if (l === POISON) return { ...r, poison: true };
      const t = calcField(ts, relo.kind, tb.endian, fail);
      if (t === POISON) return { ...r, local: l.value, validate: l.validate, poison: true };
      Object.assign(r, { local: l.value, localSize: l.size, validate: l.validate, target: t.value, targetSize: t.size });
      if (l.size !== t.size) {
        // only pointers and unsigned integers read correctly at another width
        const lt = local.typeById(l.typeId);
        const tt = tb.typeById(t.typeId);
        const unsigned = (x: BtfType): boolean => x.kind === 'int' && !x.encoding.signed;
        if (!((lt.kind === 'ptr' && tt.kind === 'ptr') || (unsigned(lt) && unsigned(tt)))) r.failMemszAdjust = true;
      }
      return r;
    }
    if (isTypeKind(relo.kind)) {
      // the target type id may change in linking: not validated
      return { ...r, local: calcType(ls, relo.kind), target: calcType(ts, relo.kind), validate: relo.kind !== 'type_id_target' };
    }
    if (isEnumvalKind(relo.kind)) {
      const l = calcEnumval(ls, relo.kind);
      const t = calcEnumval(ts, relo.kind);
      if (l === POISON || t === POISON) return { ...r, local: l === POISON ? 0 : l, poison: true };
      return { ...r, local: l, target: t };
    }
    return fail('EOPNOTSUPP', `unrecognized CO-RE relocation ${KIND_STR[relo.kind]} (${CORE_RELO_KINDS.indexOf(relo.kind)}) at insn #${relo.insnOff}`);
  };
  let result: CoreResult | undefined;
  let resultSpec: Spec | undefined;
  const kept: CoreCand[] = [];
  for (const [i, cand] of cands.entries()) {
    const { ts, ok } = matchSpec(ls, cand.btf, cand.id, relo.kind);
    log?.(`${at} ${ok ? 'matching' : 'non-matching'} candidate #${i} ${formatSpec(ts, relo.kind)}`);
    if (!ok) continue;
    const r = { ...calc(ts, cand.btf), targetTypeId: cand.id, targetBtf: cand.where };
    if (!result) {
      result = r;
      resultSpec = ts;
    } else if (ts.bitOffset !== resultSpec!.bitOffset) {
      fail('EINVAL', `field offset ambiguity: ${ts.bitOffset} != ${resultSpec!.bitOffset}`);
    } else if (r.poison !== result.poison || BigInt(r.target) !== BigInt(result.target)) {
      const word = (x: CoreResult): string => `${x.poison ? 'failure' : 'success'} ${BigInt.asUintN(64, BigInt(x.target))}`;
      fail('EINVAL', `relocation decision ambiguity: ${word(r)} != ${word(result)}`);
    }
    kept.push(cand);
  }
  // the candidates that matched are the ones later relocations of this type try (libbpf prunes its cache)
  if (kept.length && opts.cache) opts.cache.set(relo.typeId, kept);
  if (result) return result;
  log?.(`${at} no matching targets found`);
  return calc(undefined);
}

/**
 * Apply `relos` (insnOff = slot index into `insns`) against `target`, as
 * libbpf's bpf_object__relocate_core: returns the patched copy. An
 * instruction whose relocation cannot be resolved is poisoned (a call of
 * helper #195896080 that the verifier refuses only where it is reachable);
 * what libbpf refuses to relocate at all is a CoreRelocationError.
 */
export function applyCoreRelocations(
  insns: readonly Insn[],
  relos: readonly CoreRelo[],
  local: Btf,
  target: Btf,
  opts: { prog?: string; cache?: CoreCandCache; log?: CoreLog; modules?: CoreModules } = {},
): Insn[] {
  const out = insns.map((x) => ({ ...x }));
  const o = { ...opts, cache: opts.cache ?? new Map() };
  for (const relo of relos) {
    const prog = relo.func ?? opts.prog ?? '?';
    const r = calcCoreRelocation(relo, local, target, { ...o, prog });
    patchInsn(out, r, kindName(local.typeById(relo.typeId)), prog, opts.log);
  }
  return out;
}
