/**
 * Calls of kernel functions (check_kfunc_call) for the kfuncs tsbpf knows
 * (kfuncs.ts): the RCU read and preemption sections they open and close are
 * tracked as the kernel tracks them, and the kernel-object arguments and
 * references of the others are checked (kfunc-args.ts).
 */
import { Reg } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { KFUNCS, LINUX_ONLY_KFUNCS, kfuncHook, type KfuncEffect, type IterKind } from './kfuncs.js';
import { processIterArg, processIterNextCall, iterTrust, rcuUnlockIters } from './iter.js';
import { checkKfuncArgs, kfuncRet, releaseKfuncRef } from './kfunc-args.js';
import { checkDynptrKfunc } from './dynptr-kfuncs.js';
import { castKfuncRet } from './kfuncs-cast.js';
import { checkThrow } from './throw.js';
import { checkAllocKfunc } from './alloc-obj.js';
import { checkGraphKfunc } from './graph.js';

/**
 * check_kfunc_call for the kfuncs tsbpf implements (kfuncs.ts): the name
 * comes from the object's `__ksym` relocation; their signature is
 * `void (void)`, so no argument is read, r0-r5 are clobbered and r0 is left
 * uninitialised; the RCU and preemption sections they open and close are
 * tracked as the kernel tracks them.
 */
export function checkKfuncCall(env: Verifier, i: number): number {
  const name = env.input.kfuncOfInsn?.(i);
  // fixup_kfunc_call: an unresolved (id 0) call the walk reached
  if (!name) throw new Reject({
    errno: 'EINVAL',
    message: 'invalid kernel function call not eliminated in verifier pass',
    insn: i,
    hint: 'the call names no kernel function; guard it with a condition the verifier can prove false, or resolve it',
  });
  const k = KFUNCS.get(name);
  if (!k) {
    if (LINUX_ONLY_KFUNCS.has(name))
      throw new Reject({
        errno: 'ENOTSUPP',
        message: `calling kernel function ${name} is not supported by tsbpf`,
        insn: i,
        hint: `tsbpf judges the kfuncs ${[...KFUNCS.keys()].join(', ')}`,
        rule: `${name} is a Linux kfunc that tsbpf does not implement`,
      });
    throw new Reject({
      errno: 'EACCES',
      message: `calling kernel function ${name} is not allowed`,
      insn: i,
      hint: `tsbpf implements the kfuncs ${[...KFUNCS.keys()].join(', ')}`,
      rule: `${name} is not a kfunc programs may call`,
    });
  }
  // fetch_kfunc_meta: a kfunc registered for other hooks only (btf_kfunc_id_set_contains)
  const hook = kfuncHook(env.input.progType);
  if (k.hooks && !(hook && k.hooks.includes(hook)))
    throw new Reject({
      errno: 'EACCES',
      message: `calling kernel function ${name} is not allowed`,
      insn: i,
      rule: `${name} is not available to ${env.input.progType} programs`,
    });
  const st = env.cur;
  // check_kfunc_call: a KF_SLEEPABLE kfunc needs a sleepable program, outside RCU read and
  // non-preemptible sections
  if (k.sig?.sleepable) {
    const sleepFail = (message: string, hint: string): never => {
      throw new Reject({ errno: 'EACCES', message, insn: i, hint, rule: `${name} may sleep` });
    };
    if (!env.sleepable) sleepFail(`program must be sleepable to call sleepable kfunc ${name}`, 'load the program as sleepable (a `.s` section, BPF_F_SLEEPABLE)');
    if (st.rcuLock) sleepFail(`kernel func ${name} is sleepable within rcu_read_lock region`, 'call it after bpf_rcu_read_unlock()');
    if (st.preemptLock) sleepFail(`kernel func ${name} is sleepable within non-preemptible region`, 'call it after bpf_preempt_enable()');
  }
  switch (k.effect) {
    case 'rcu_lock':
      if (st.rcuLock) throw new Reject({
        errno: 'EINVAL',
        message: `nested rcu read lock (kernel function ${name})`,
        insn: i,
        hint: 'RCU read sections do not nest: unlock before locking again',
      });
      st.rcuLock = true;
      break;
    case 'rcu_unlock':
      if (!st.rcuLock) throw new Reject({
        errno: 'EINVAL',
        message: `unmatched rcu read unlock (kernel function ${name})`,
        insn: i,
        hint: 'call bpf_rcu_read_lock() first on every path reaching this unlock',
      });
      st.rcuLock = false;
      rcuUnlockIters(env);
      // check_kfunc_call's rcu_unlock: every MEM_RCU pointer (a kptr loaded in the section, ...)
      // becomes untrusted and no longer maybe-NULL: a KF_RCU kfunc then refuses it
      for (const r of st.allRegs((x) => x.type === 'btf_id' && x.btfFlags === 'rcu')) {
        r.btfFlags = 'untrusted';
        r.maybeNull = false;
      }
      break;
    case 'preempt_disable':
      st.preemptLock++;
      break;
    case 'preempt_enable':
      if (!st.preemptLock) throw new Reject({
        errno: 'EINVAL',
        message: `unmatched attempt to enable preemption (kernel function ${name})`,
        insn: i,
        hint: 'call bpf_preempt_disable() first on every path reaching this call',
      });
      st.preemptLock--;
      break;
  }
  if (k.effect === 'throw') return checkThrow(env, i);
  if (k.iter) return checkIterKfuncCall(env, i, k.effect, k.iter);
  if (k.effect === 'dynptr') return checkDynptrKfunc(env, i, name);
  if (k.effect === 'alloc') return checkAllocKfunc(env, i, name);
  if (k.effect === 'graph') return checkGraphKfunc(env, i, name);
  const releaseRef = k.sig ? checkKfuncArgs(env, i, name, k.sig) : 0;
  if (releaseRef) releaseKfuncRef(env, releaseRef);
  const cast = k.effect === 'cast' ? castKfuncRet(env, i, name) : undefined;
  const regs = env.regs();
  for (let r = 0; r <= 5; r++) regs[r] = Reg.notInit();
  if (k.sig) regs[0] = kfuncRet(env, i, name, k.sig);
  if (cast) regs[0] = cast;
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  return i + 1;
}

/**
 * An iterator kfunc (iter.ts): r1 is the iterator (process_iter_arg), _new's other arguments are
 * scalars or ignored (`__ign`); _new returns an int (0 or an errno), _next a pointer into the
 * iterator (PTR_TO_MEM, read-only, maybe NULL, tied to the iterator's reference, so that
 * _destroy invalidates it) and forks the path (process_iter_next_call), _destroy releases the
 * iterator's reference.
 */
function checkIterKfuncCall(env: Verifier, i: number, effect: KfuncEffect, iter: IterKind): number {
  const op = effect === 'iter_new' ? 'new' : effect === 'iter_next' ? 'next' : 'destroy';
  const name = `bpf_iter_${iter.kind}_${op}`;
  const loc = processIterArg(env, i, op, iter);
  // the other arguments of _new: scalars, kernel objects (trusted, RCU, nullable), ignored ones
  if (op === 'new') checkKfuncArgs(env, i, name, { args: ['ignore', ...iter.newArgs], ret: 'void', trustedArgs: iter.trustedArgs, rcu: iter.rcu });
  if (op === 'destroy') releaseKfuncRef(env, loc.ref);
  const regs = env.regs();
  for (let r = 0; r <= 5; r++) regs[r] = Reg.notInit();
  if (op === 'new') regs[0] = Reg.unknown();
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  if (op === 'next') {
    const next = iter.next;
    if ('mem' in next) regs[0] = Reg.ptr('mem', { memSize: next.mem, rdonly: true, refObjId: loc.ref, maybeNull: true, id: env.newId() });
    else {
      // a kernel object: MEM_RCU from an RCU-protected iterator, PTR_TRUSTED otherwise
      regs[0] = kfuncRet(env, i, name, { args: [], ret: next, retNull: true });
      regs[0].btfFlags = iterTrust(env, loc) === 'rcu' ? 'rcu' : 'trusted';
    }
    processIterNextCall(env, i, loc);
  }
  return i + 1;
}
