/**
 * The legacy packet loads BPF_LD | BPF_ABS / BPF_IND (check_ld_abs): which
 * programs may use them, the context pointer in r6 they need, the clobbered
 * r1-r5, and the hidden early return of 0 that the kernel's rewrite
 * (bpf_gen_ld_abs) adds for a load outside the packet.
 */
import { checkNoLock } from './spin-lock.js';
import type { Insn } from '../isa/insn.js';
import * as op from '../isa/opcodes.js';
import { Reg } from './types.js';
import { Scalar } from './scalar.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { checkExit } from './call.js';
import { pushStack } from './do-check.js';

export function checkLdAbs(env: Verifier, ins: Insn): number {
  const i = env.idx;
  if (!env.rules.ldAbs) throw new Reject({
    errno: 'EINVAL',
    message: 'BPF_LD_[ABS|IND] instructions not allowed for this program type',
    insn: i,
    rule: 'legacy packet loads (LD_ABS/LD_IND) are only for socket filters and tc programs',
  });
  // check_ld_abs: allowed in bpf-to-bpf functions (an out-of-bounds load returns 0 from the function,
  // as the kernel's rewrite does), but not in callbacks
  if (env.cur.frames.some((f) => f.callbackOf !== 0)) throw new Reject({
    errno: 'EINVAL',
    message: 'cannot use BPF_LD_[ABS|IND] within callback',
    insn: i,
    hint: 'read packet bytes with bpf_skb_load_bytes() inside callbacks',
  });
  checkNoLock(env, i, 'BPF_LD_[ABS|IND]');
  if (env.cur.refs.length) throw new Reject({ errno: 'EINVAL', message: 'BPF_LD_[ABS|IND] would lead to reference leak', insn: i });
  if (env.cur.rcuLock) throw new Reject({
    errno: 'EINVAL',
    message: 'BPF_LD_[ABS|IND] cannot be used inside bpf_rcu_read_lock-ed region',
    insn: i,
  });
  if (env.cur.preemptLock) throw new Reject({
    errno: 'EINVAL',
    message: 'BPF_LD_[ABS|IND] cannot be used inside bpf_preempt_disable-ed region',
    insn: i,
  });
  const r6 = env.readReg(6);
  if (r6.type !== 'ctx') throw new Reject({
    errno: 'EINVAL',
    message: 'at the time of BPF_LD_ABS|IND R6 != pointer to skb',
    insn: i,
    regs: [6],
    hint: 'keep the context pointer in r6 for LD_ABS/LD_IND',
  });
  if (op.modeOf(ins.code) === op.BPF_IND) env.readReg(ins.src);
  for (let r = 1; r <= 5; r++) env.regs()[r] = Reg.notInit();
  const size = op.sizeBytes(op.sizeOf(ins.code));
  env.writeReg(0, size === 8 ? Reg.unknown() : Reg.scalar(Scalar.urange(0n, (1n << BigInt(size * 8)) - 1n)));
  // The rewrite (bpf_gen_ld_abs) returns 0 from the function when the load is out of the packet's
  // bounds. In a bpf-to-bpf call (not a global function verified on its own, whose caller assumes
  // any r0) Linux explores that hidden exit too (check_ld_abs: push_stack of the loaded path, then
  // prepare_func_exit with r0 = 0), so the caller continues with r0 = 0 and its own registers.
  if (env.cur.frames.length > 1) {
    const loaded = env.cur.clone();
    loaded.path = { insn: i, to: i + 1, taken: false, prev: loaded.path };
    pushStack(env, loaded, i + 1, i);
    env.regs()[0] = Reg.known(0n);
    env.cur.path = { insn: i, to: env.cur.cur.callsite + 1, taken: true, prev: env.cur.path };
    return checkExit(env);
  }
  return i + 1;
}
