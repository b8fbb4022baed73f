/**
 * The context's access rules: a field of the program type's context may be
 * read or written only at a constant offset from the unmoved ctx pointer,
 * with the size and direction the program type allows (check_ctx_access and
 * the per-type is_valid_access callbacks, which progtypes/ holds); what a
 * read yields (a scalar, a packet pointer, ...) comes from the same rules.
 */
import { Reg } from './types.js';
import { tnumStr } from './tnum.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { ctxSock } from './sock.js';
import { loadedScalar } from './ldst.js';
import type { CtxAccessQuery } from './progtypes/index.js';

export function ctxAccess(env: Verifier, ptrReg: number, base: Reg, off: number, size: number, write: boolean, val: Reg | undefined, signExtend: boolean): Reg | undefined {
  const i = env.idx;
  if (!base.s.isConst())
    throw new Reject({
      errno: 'EACCES',
      message: `variable ctx access var_off=${tnumStr(base.s.varOff)} disallowed`,
      insn: i,
      regs: [ptrReg],
      hint: 'access context fields at constant offsets from the original ctx pointer',
      rule: 'the context pointer was moved by a variable amount',
    });
  if (base.off !== 0 || base.s.varOff.value !== 0n)
    throw new Reject({
      errno: 'EACCES',
      message: `dereference of modified ctx ptr R${ptrReg} off=${base.off} disallowed`,
      insn: i,
      regs: [ptrReg],
      hint: 'access context fields through the original ctx pointer, with the field offset in the instruction',
      rule: 'the context pointer was moved before the access',
    });
  if (write && val?.isPointer && !env.privileged) throw new Reject({
    errno: 'EACCES',
    message: `R${env.insns[i]!.src} leaks addr into ctx`,
    insn: i,
    regs: [ptrReg],
  });
  const o = base.off + off;
  // (the query built without a spread: an object spread is a runtime call on every context access)
  const q: CtxAccessQuery = { off: o, size, write, signExtend, privileged: env.privileged };
  if (env.input.attachType) q.attachType = env.input.attachType;
  const f = env.rules.ctxAccess(q);
  if (!f) {
    throw new Reject({
      errno: 'EACCES',
      message: `invalid bpf_context access off=${o} size=${size}`,
      insn: i,
      regs: [ptrReg],
      hint: `${env.rules.name} programs may not ${write ? 'write' : 'read'} ${size} byte(s) at offset ${o} of their context`,
      rule: 'the context access is not allowed for this program type',
    });
  }
  // check_ctx_access: an allowed access raises prog->aux->max_ctx_offset
  env.maxCtxOffset = Math.max(env.maxCtxOffset, o + size);
  if (write) return undefined;
  if (f === 'btf_ptr') {
    // btf_ctx_access: a struct pointer argument of a tracing target is a trusted PTR_TO_BTF_ID
    const t = env.rules.tracing;
    const a = t ? (o / 8 < t.args.length ? t.args[o / 8] : t.ret) : undefined;
    if (!a?.btfId) throw new Reject({ errno: 'EACCES', message: `invalid bpf_context access off=${o} size=${size}`, insn: i, regs: [ptrReg] });
    // (an iterator's ctx_arg_info: maybe NULL, and trusted only where registered so)
    return Reg.ptr('btf_id', { btfId: a.btfId, btfName: a.btfName ?? '', btfFlags: t?.untrusted || a.plain ? '' : 'trusted', ...(a.maybeNull ? { maybeNull: true, id: env.newId() } : {}) });
  }
  if (f === 'flow_keys') return Reg.ptr('flow_keys');
  // raw_tp_writable_prog_is_valid_access: the first slot is the tracepoint's buffer (tp-buffer.ts)
  if (f === 'tp_buffer') return Reg.ptr('tp_buffer');
  // btf_ctx_access: an iterator's ctx_arg_info buffer, PTR_TO_BUF_OR_NULL (buf.ts)
  if (f === 'buf' || f === 'rdonly_buf') return Reg.ptr('buf', { rdonly: f === 'rdonly_buf', maybeNull: true, id: env.newId() });
  // the socket a context field points to (the is_valid_access callbacks' PTR_TO_SOCKET(_OR_NULL), PTR_TO_SOCK_COMMON_OR_NULL)
  if (f === 'sock') return ctxSock(env, 'sock_common', true);
  if (f === 'sock_ptr') return ctxSock(env, 'sock', false);
  if (f === 'sock_or_null') return ctxSock(env, 'sock', true);
  if (f === 'scalar') {
    // is_retval (lsm): the hook's return value so far, a 32-bit number in the hook's range (__mark_reg_s32_range)
    const rv = env.rules.retvalRead;
    if (rv && env.rules.tracing && o === 8 * env.rules.tracing.args.length) {
      const r = Reg.unknown();
      r.s.s32min = rv[0];
      r.s.s32max = rv[1];
      r.s.smin = BigInt(rv[0]);
      r.s.smax = BigInt(rv[1]);
      r.s.sync();
      // then check_mem_access's narrowing of a b/h/w load
      if (size < 8) {
        if (signExtend) r.s.signExtend(size as 1 | 2 | 4);
        else r.s.truncate(size);
      }
      return r;
    }
    // (the scalar of a load the verifier knows nothing about, built once per size: ldst.ts)
    return loadedScalar(size, signExtend);
  }
  return Reg.ptr(f as 'pkt' | 'pkt_end' | 'pkt_meta');
}
