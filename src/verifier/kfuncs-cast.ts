/**
 * The casting kfuncs of common_btf_ids (kernel/bpf/helpers.c), which every program type may
 * call and which the kernel inlines as a register move (fixup_kfunc_call):
 *
 * - bpf_cast_to_kern_ctx(void *obj): obj must be the program's context, unmoved
 *   (KF_ARG_PTR_TO_CTX; check_func_arg_reg_off); r0 is a trusted PTR_TO_BTF_ID of the
 *   kernel-side context struct (get_kern_ctx_btf_id: struct sk_buff for __sk_buff, ...).
 * - bpf_rdonly_cast(const void *obj__ign, u32 btf_id__k): obj is not checked at all, the id is
 *   a known constant (made precise) naming a type of the kernel BTF; a struct or union gives an
 *   untrusted PTR_TO_BTF_ID of it (every load a fault-tolerant probe), anything else but void
 *   is refused; void gives untrusted read-only memory of no size, which tsbpf does not model
 *   (ENOTSUPP).
 *
 * tsbpf's contexts are the uapi structs, not the kernel's, so a kernel context pointer has
 * nothing behind it to read: programs calling these are judged, then refused at load
 * (runtime 'none').
 */
import { Reg, regTypeStr, type RegType } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { kernelBtf, kernelStruct } from './kernel-btf.js';
import { kernCtxStruct } from './global-func.js';
import { checkPtrUnmoved } from './ptr-off.js';

export const CAST_KFUNCS: readonly string[] = ['bpf_cast_to_kern_ctx', 'bpf_rdonly_cast'];

/** check_kfunc_args and check_kfunc_call for a casting kfunc: r0 after the call (r1-r5 are the caller's to clobber). */
export function castKfuncRet(env: Verifier, i: number, name: string): Reg {
  return name === 'bpf_cast_to_kern_ctx' ? castToKernCtx(env, i, name) : rdonlyCast(env, i);
}

/** The register types check_func_arg_reg_off lets through at any offset (its first cases), and PTR_TO_BTF_ID. */
const ANY_OFFSET: ReadonlySet<RegType> = new Set<RegType>(['fp', 'pkt', 'pkt_meta', 'map_key', 'map_value', 'mem', 'scalar', 'btf_id']);

function castToKernCtx(env: Verifier, i: number, name: string): Reg {
  const reg = env.readReg(1);
  // Linux 6.18 checks the argument as a trusted one first: NULL is refused as such
  if (reg.isNull) throw new Reject({ errno: 'EACCES', message: 'Possibly NULL pointer passed to trusted arg0', insn: i, regs: [1], hint: 'pass the program\'s context' });
  // check_func_arg_reg_off: a context (or socket, ...) must be unmoved; stack, packet, map and
  // memory pointers and scalars may be at any offset (then refused below: not a context), and a
  // kernel object at a fixed one
  if (!ANY_OFFSET.has(reg.type)) checkPtrUnmoved(i, 1, reg);
  if (reg.type !== 'ctx')
    throw new Reject({ errno: 'EINVAL', message: `arg#0 expected pointer to ctx, but got ${regTypeStr(reg)}`, insn: i, regs: [1], rule: `${name} takes the program's context` });
  const struct = kernCtxStruct(env.input.progType);
  if (!struct) throw new Reject({
    errno: 'ENOTSUPP',
    message: `${name} on a ${env.input.progType} program's context is not supported by tsbpf`,
    insn: i,
    rule: `tsbpf does not know the kernel context struct of ${env.input.progType} programs`,
  });
  const t = kernelStruct(env, struct, i, `${name} returns struct ${struct}, which the kernel BTF given lacks`);
  return Reg.ptr('btf_id', { btfId: t.id, btfName: struct, btfFlags: 'trusted' });
}

function rdonlyCast(env: Verifier, i: number): Reg {
  const reg = env.readReg(2);
  if (reg.type !== 'scalar') throw new Reject({ errno: 'EINVAL', message: 'R2 is not a scalar', insn: i, regs: [2] });
  if (!reg.s.isConst()) throw new Reject({ errno: 'EINVAL', message: 'R2 must be a known constant', insn: i, regs: [2] });
  const id = reg.s.varOff.value;
  const btf = env.input.kernelBtf ?? kernelBtf();
  const t = id < BigInt(btf.length) ? btf.typeById(Number(id)) : undefined;
  if (!t) throw new Reject({ errno: 'EINVAL', message: `Unknown type ID ${id} passed to kfunc bpf_rdonly_cast`, insn: i, regs: [2] });
  if (t.kind === 'void') throw new Reject({
    errno: 'ENOTSUPP',
    message: 'bpf_rdonly_cast to void is not supported by tsbpf',
    insn: i,
    rule: 'untrusted read-only memory of no size is not modelled',
  });
  // btf_type_is_struct: a struct or a union
  if (t.kind !== 'struct' && t.kind !== 'union')
    throw new Reject({ errno: 'EINVAL', message: 'kfunc bpf_rdonly_cast type ID argument must be of a struct or void', insn: i, regs: [2] });
  return Reg.ptr('btf_id', { btfId: t.id, btfName: t.name, btfFlags: 'untrusted' });
}
