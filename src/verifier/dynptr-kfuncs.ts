/**
 * The dynptr kfuncs (kernel/bpf/helpers.c common_btf_ids, net/core/filter.c's skb and xdp
 * sets), as check_kfunc_args and check_kfunc_call judge them:
 *
 * - bpf_dynptr_from_skb(skb, flags, ptr__uninit) (KF_TRUSTED_ARGS) and
 *   bpf_dynptr_from_xdp(xdp, flags, ptr__uninit): the program's context and an uninitialised
 *   dynptr, which becomes an SKB or XDP dynptr;
 * - bpf_dynptr_slice / _slice_rdwr(p, offset, buffer__opt, buffer__szk) (KF_RET_NULL): a
 *   pointer to `buffer__szk` (a constant) bytes, maybe NULL: PTR_TO_MEM carrying the dynptr's
 *   type and id, read-only for _slice (Linux 6.18 refuses _slice_rdwr outright, EPERM); the
 *   buffer, when not NULL, must be readable and writable for that size;
 * - bpf_dynptr_adjust(p, start, end), _is_null, _is_rdonly, _size: an initialised dynptr;
 * - bpf_dynptr_clone(p, clone__uninit): the clone gets the parent's type and shares its
 *   reference (releasing either releases both).
 *
 * A CONST_PTR_TO_DYNPTR (a callback's) may be passed wherever the dynptr is not created.
 */
import { Reg, regTypeStr } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { processDynptrArg, type DynptrInfo } from './dynptr.js';
import { kfuncMemSizePair } from './kfunc-args.js';

/** The program types whose context is the struct __sk_buff bpf_dynptr_from_skb takes. */
const SKB_CTX = new Set(['sched_cls', 'sched_act', 'sk_skb', 'socket_filter', 'cgroup_skb', 'lwt_out', 'lwt_in', 'lwt_xmit', 'lwt_seg6local']);


/** The dynptr kfuncs by name (their effect 'dynptr' in kfuncs.ts). */
export const DYNPTR_KFUNCS: readonly string[] = [
  'bpf_dynptr_from_skb', 'bpf_dynptr_from_xdp', 'bpf_dynptr_slice', 'bpf_dynptr_slice_rdwr',
  'bpf_dynptr_adjust', 'bpf_dynptr_is_null', 'bpf_dynptr_is_rdonly', 'bpf_dynptr_size', 'bpf_dynptr_clone',
];

function fail(i: number, regno: number, errno: 'EINVAL' | 'EACCES', message: string, name: string, hint?: string): never {
  throw new Reject({ errno, message, insn: i, regs: [regno], ...(hint ? { hint } : {}), rule: `argument ${regno - 1} of ${name} is not what its prototype asks` });
}

/** A scalar argument of a kfunc. */
function scalarArg(env: Verifier, i: number, regno: number, name: string): void {
  if (env.readReg(regno).type !== 'scalar') fail(i, regno, 'EINVAL', `R${regno} is not a scalar`, name);
}

/** The initialised dynptr in r1 (a const one is MEM_RDONLY: it may be read, never created). */
function dynptrArg(env: Verifier, i: number): DynptrInfo {
  return processDynptrArg(env, i, 1, { rdonly: env.regs()[1]!.type === 'dynptr' }, false)!;
}

/** bpf_dynptr_from_skb / _from_xdp's first argument: the program's own context (KF_ARG_PTR_TO_CTX, trusted). */
function ctxArg(env: Verifier, i: number, name: string, skb: boolean): void {
  const reg = env.readReg(1);
  if (reg.isNull || reg.maybeNull) fail(i, 1, 'EACCES', 'Possibly NULL pointer passed to trusted arg0', name, 'pass the program\'s context');
  const struct = skb ? '__sk_buff' : 'xdp_md';
  // btf_is_prog_ctx_type: only where the context is that struct is the argument a context
  if (skb && !SKB_CTX.has(env.input.progType))
    fail(i, 1, 'EINVAL', `arg#0 pointer type STRUCT ${struct} must point to scalar, or struct with scalar`, name,
      `${name} takes the struct __sk_buff context of a networking program`);
  if (reg.type !== 'ctx') fail(i, 1, 'EINVAL', `arg#0 expected pointer to ctx, but got ${regTypeStr(reg)}`, name, 'pass the program\'s context (r1 at entry)');
  if (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n)
    fail(i, 1, 'EACCES', `dereference of modified ctx ptr R1 off=${reg.off} disallowed`, name, 'pass the original context pointer');
}

/**
 * bpf_dynptr_slice's buffer and its __szk size (KF_ARG_PTR_TO_MEM_SIZE, check_kfunc_mem_size_reg):
 * a NULL buffer needs no size check; the size must be a known constant. Returns it.
 */
function sliceBuffer(env: Verifier, i: number, name: string): number {
  const buf = env.readReg(3), size = env.readReg(4);
  // the buffer is __opt: a NULL one needs no size check
  if (!buf.isNull) kfuncMemSizePair(env, i, name, 3, 'pass a buffer of at least buffer__szk bytes (or NULL) and a constant size');
  if (size.type !== 'scalar' || !size.s.isConst())
    fail(i, 4, 'EINVAL', 'R4 must be a known constant', name, 'pass sizeof() of the buffer: the slice\'s size must be a constant');
  return Number(size.s.varOff.value);
}

/**
 * check_kfunc_call for a dynptr kfunc `name` (after the program type's check): the arguments,
 * then r0 (r0-r5 clobbered).
 */
export function checkDynptrKfunc(env: Verifier, i: number, name: string): number {
  let r0: Reg = Reg.unknown();
  switch (name) {
    case 'bpf_dynptr_from_skb':
    case 'bpf_dynptr_from_xdp': {
      const skb = name === 'bpf_dynptr_from_skb';
      ctxArg(env, i, name, skb);
      scalarArg(env, i, 2, name);
      processDynptrArg(env, i, 3, { uninit: true, type: skb ? 'skb' : 'xdp' }, false);
      break;
    }
    case 'bpf_dynptr_slice':
    case 'bpf_dynptr_slice_rdwr': {
      const d = dynptrArg(env, i);
      scalarArg(env, i, 2, name);
      const size = sliceBuffer(env, i, name);
      const rdwr = name === 'bpf_dynptr_slice_rdwr';
      // Linux 6.18 as recorded (test/verifier-corpus/dynptr.txt) refuses every call of
      // bpf_dynptr_slice_rdwr once its arguments are checked, with EPERM, in every program type
      // (6.12 allowed it where may_access_direct_pkt_data allows writes)
      if (rdwr)
        throw new Reject({
          errno: 'EPERM',
          message: 'bpf_dynptr_slice_rdwr() is not allowed',
          insn: i,
          hint: 'read with bpf_dynptr_slice and write with bpf_dynptr_write',
          rule: 'Linux 6.18 does not allow bpf_dynptr_slice_rdwr',
        });
      r0 = Reg.ptr('mem', { memSize: size, rdonly: true, maybeNull: true, id: env.newId(), dynptrType: d.type, dynptrId: d.id });
      break;
    }
    case 'bpf_dynptr_adjust':
      dynptrArg(env, i);
      scalarArg(env, i, 2, name);
      scalarArg(env, i, 3, name);
      break;
    case 'bpf_dynptr_clone': {
      const d = dynptrArg(env, i);
      processDynptrArg(env, i, 2, { uninit: true, type: d.type, cloneRef: d.refObjId }, false);
      break;
    }
    default: // bpf_dynptr_is_null, _is_rdonly, _size
      dynptrArg(env, i);
  }
  const regs = env.regs();
  for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
  regs[0] = r0;
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  return i + 1;
}
