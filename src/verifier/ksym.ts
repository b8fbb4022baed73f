/**
 * Typed ksyms: `extern const struct rq runqueues __ksym;`, a kernel
 * variable the program takes the address of with an lddw whose pseudo
 * source is BPF_PSEUDO_BTF_ID (libbpf puts the variable's id in the
 * kernel's BTF there), and the helpers that turn a per-CPU one into a
 * CPU's copy, bpf_per_cpu_ptr and bpf_this_cpu_ptr.
 *
 * As Linux (check_pseudo_btf_id, then check_ld_imm and check_helper_call):
 * - the id must name a VAR or a FUNC of the kernel's BTF;
 * - a VAR of the DATASEC `.data..percpu` gives PTR_TO_BTF_ID | MEM_PERCPU
 *   of the variable's type (`percpu_ptr_`), which cannot be read through,
 *   only passed to the two helpers;
 * - any other VAR of a struct type gives a plain PTR_TO_BTF_ID, read through
 *   with btf_struct_access; a VAR of another type PTR_TO_MEM | MEM_RDONLY of
 *   the type's size; a FUNC a read-only PTR_TO_MEM of size 0;
 * - ARG_PTR_TO_PERCPU_BTF_ID takes only a MEM_PERCPU pointer, at offset 0;
 * - RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY: the CPU's copy as a PTR_TO_BTF_ID
 *   of the struct (read-only as every kernel object), or a read-only
 *   PTR_TO_MEM of the type's size; bpf_per_cpu_ptr's may be NULL (a CPU
 *   number past nr_cpu_ids), bpf_this_cpu_ptr's never is.
 *
 * The name comes from the object's `__ksym` relocation (as libbpf resolves
 * it, by name and kind in the kernel BTF: "extern (var ksym) 'x': not found
 * in kernel BTF" otherwise); a raw program's lddw carries the BTF id itself,
 * meaningful only against the kernel BTF given. tsbpf's runtime has no kernel
 * variables: a program using one is judged, and refused at load by the
 * runtime (ENOTSUPP naming the symbol).
 */
import type { Btf } from '../object/btf/btf.js';
import type { BtfType } from '../object/btf/types.js';
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { checkPtrUnmoved } from './ptr-off.js';
import type { Verifier } from './env.js';
import { kernelBtf } from './kernel-btf.js';
import type { CallArgMeta, HelperArg } from './helper-args.js';

/** What an lddw of a ksym loads: the register it makes (check_pseudo_btf_id's aux->btf_var). */
export type KsymKind = 'percpu' | 'struct' | 'mem' | 'func';

export interface Ksym {
  name: string;
  kind: KsymKind;
  /** the variable's type (modifiers skipped), 0 for a FUNC */
  typeId: number;
  /** the type's size (mem), 0 for a FUNC */
  size: number;
}

/** The per-CPU variables of a kernel BTF: the ids of the VARs in DATASEC `.data..percpu` (find_btf_percpu_datasec). */
const percpuVars = new WeakMap<Btf, ReadonlySet<number>>();
function percpuOf(btf: Btf): ReadonlySet<number> {
  let s = percpuVars.get(btf);
  if (!s) {
    const sec = btf.typeByName('.data..percpu', 'datasec');
    s = new Set(sec?.kind === 'datasec' ? sec.vars.map((v) => v.typeId) : []);
    percpuVars.set(btf, s);
  }
  return s;
}

/** The kernel BTF the program is judged against, and whether the caller gave it (the shipped subset has no variables). */
function ksymBtf(env: Verifier): { btf: Btf; given: boolean } {
  return env.input.kernelBtf ? { btf: env.input.kernelBtf, given: true } : { btf: kernelBtf(), given: false };
}

/** resolve_pseudo_ldimm64 -> check_pseudo_btf_id for the lddw at `i`: the ksym, or the kernel's (or libbpf's) refusal. */
export function resolveKsym(env: Verifier, i: number): Ksym {
  const { btf, given } = ksymBtf(env);
  const symbol = env.input.ksymOfInsn?.(i);
  let t: BtfType | undefined;
  if (symbol !== undefined) {
    // libbpf: bpf_object__resolve_ksym_var_btf_id (a VAR), or a function's address (a FUNC)
    t = btf.typeByName(symbol, 'var') ?? btf.typeByName(symbol, 'func');
    if (!t) throw new Reject({
      errno: given ? 'ESRCH' : 'ENOTSUPP',
      message: given
        ? `extern (var ksym) '${symbol}': not found in kernel BTF`
        : `ksym '${symbol}' (a typed __ksym variable) needs the kernel's BTF, which tsbpf does not ship`,
      insn: i,
      hint: given ? `the kernel has no variable named ${symbol} in its BTF (only per-CPU variables are there); declare it __weak to load without it`
        : 'give the kernel\'s BTF: `tsbpf prog load --kernel-btf /sys/kernel/btf/vmlinux`',
      rule: given ? `the kernel BTF has no variable ${symbol}` : 'typed ksyms are resolved against the kernel BTF',
    });
  } else {
    const id = env.insns[i]!.imm >>> 0;
    if (!given) throw new Reject({
      errno: 'ENOTSUPP',
      message: `ldimm64 of BTF id ${id} (a typed __ksym variable) needs the kernel's BTF, which tsbpf does not ship`,
      insn: i,
      hint: 'give the kernel\'s BTF: `tsbpf prog load --kernel-btf /sys/kernel/btf/vmlinux`',
      rule: 'typed ksyms are resolved against the kernel BTF',
    });
    if (id === 0 || id >= btf.length) throw new Reject({ errno: 'ENOENT', message: `ldimm64 insn specifies invalid btf_id ${id}.`, insn: i });
    t = btf.typeById(id);
    if (t.kind !== 'var' && t.kind !== 'func')
      throw new Reject({ errno: 'EINVAL', message: `pseudo btf_id ${id} in ldimm64 isn't KIND_VAR or KIND_FUNC`, insn: i });
  }
  // kallsyms_lookup_name: the symbol's address (kernelSymbols: the kernel's kallsyms, when known)
  if (env.input.kernelSymbols && !env.input.kernelSymbols(t.name))
    throw new Reject({
      errno: 'ENOENT',
      message: `ldimm64 failed to find the address for kernel symbol '${t.name}'.`,
      insn: i,
      hint: 'the kernel\'s kallsyms lacks it: a kernel built without CONFIG_KALLSYMS_ALL has no data symbols there, so no typed ksym variable loads',
      rule: `the kernel has no address for ${t.name}`,
    });
  if (t.kind === 'func') return { name: t.name, kind: 'func', typeId: 0, size: 0 };
  const typeId = btf.resolve((t as { typeId: number }).typeId);
  const target = btf.typeById(typeId);
  if (percpuOf(btf).has(t.id)) return { name: t.name, kind: 'percpu', typeId, size: 0 };
  if (target.kind === 'struct') return { name: t.name, kind: 'struct', typeId, size: 0 };
  let size: number;
  try {
    size = btf.sizeof(typeId);
  } catch {
    throw new Reject({ errno: 'EINVAL', message: `ldimm64 unable to resolve the size of type '${target.name}': -22`, insn: i });
  }
  return { name: t.name, kind: 'mem', typeId, size };
}

/** check_ld_imm for BPF_PSEUDO_BTF_ID: the register the ksym's address makes. */
export function ksymReg(env: Verifier, i: number): Reg {
  const k = resolveKsym(env, i);
  const name = (id: number): string => ksymBtf(env).btf.typeById(id).name;
  switch (k.kind) {
    case 'percpu':
      return Reg.ptr('btf_id', { btfId: k.typeId, btfName: name(k.typeId), btfFlags: 'percpu' });
    case 'struct':
      return Reg.ptr('btf_id', { btfId: k.typeId, btfName: name(k.typeId) });
    case 'mem':
    case 'func':
      return Reg.ptr('mem', { memSize: k.size, rdonly: true });
  }
}

/** check_ptr_to_btf_access: a per-CPU variable is not memory of this CPU until a helper makes it so. */
export function checkPercpuAccess(env: Verifier, ptrReg: number, base: Reg, off: number): void {
  if (base.btfFlags === 'percpu') throw new Reject({
    errno: 'EACCES',
    message: `R${ptrReg} is ptr_${base.btfName} access percpu memory: off=${off}`,
    insn: env.idx,
    regs: [ptrReg],
    hint: 'get this CPU\'s copy with bpf_this_cpu_ptr() (or a CPU\'s with bpf_per_cpu_ptr()) and read through it',
    rule: 'a per-CPU kernel variable is read through bpf_this_cpu_ptr / bpf_per_cpu_ptr',
  });
}

/**
 * ARG_PTR_TO_PERCPU_BTF_ID (check_reg_type's percpu_btf_ptr_types, then
 * check_func_arg_reg_off without a fixed offset): the per-CPU variable's
 * address exactly as the lddw made it; its type is what the helper returns.
 */
export function percpuBtfIdArg(env: Verifier, meta: CallArgMeta, a: HelperArg, badArg: (expected: string) => never): void {
  const { r, reg } = a;
  if (reg.type !== 'btf_id' || reg.btfFlags !== 'percpu' || reg.maybeNull) badArg('percpu_ptr_, percpu_rcu_ptr_, percpu_trusted_ptr_');
  checkPtrUnmoved(meta.insn, r, reg);
  meta.retBtfId = reg.btfId;
}

/**
 * RET_PTR_TO_MEM_OR_BTF_ID (| PTR_MAYBE_NULL) | MEM_RDONLY: a CPU's copy of the
 * variable, typed by meta.retBtfId (the argument's type): a struct is a plain
 * PTR_TO_BTF_ID (MEM_RDONLY folded away: kernel objects are read-only anyway),
 * anything else read-only memory of its size.
 */
export function memOrBtfIdRet(env: Verifier, meta: CallArgMeta): Reg {
  const btf = ksymBtf(env).btf;
  const id = meta.retBtfId ?? 0;
  const t = btf.typeById(id);
  const orNull = meta.proto.ret === 'PTR_TO_MEM_OR_BTF_ID_OR_NULL' ? { id: env.newId(), maybeNull: true } : {};
  if (t.kind === 'struct') return Reg.ptr('btf_id', { btfId: id, btfName: t.name, ...orNull });
  let size: number;
  try {
    size = btf.sizeof(id);
  } catch {
    throw new Reject({ errno: 'EINVAL', message: `unable to resolve the size of type '${t.name}': -22`, insn: meta.insn });
  }
  return Reg.ptr('mem', { memSize: size, rdonly: true, ...orNull });
}
