/**
 * Global functions: verified once on their own, with arguments typed from
 * their BTF prototype, instead of at every call (do_check_subprogs,
 * btf_prepare_func_args); a call checks the caller's registers against the
 * prototype (btf_check_func_arg_match) and goes on with r0 unknown.
 */
import * as op from '../isa/opcodes.js';
import type { Errno } from '../errors.js';
import type { Btf } from '../object/btf/btf.js';
import { Reg, regTypeStr } from './types.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import { VerifierState, Frame } from './state.js';
import { prepareGlobalFunc, isGlobalFunc, funcName, type GlobalProto } from './global-func.js';
import { BTF_ID_ARG_TYPES, btfStructArgFault, helperMemAccess, isBtfIdArgType } from './helper-args.js';
import { callChangesPktData } from './call-helper.js';
import { explore } from './do-check.js';
import { unreleasedRef } from './call.js';
import { callbackDynptr, isPktSlice, processDynptrArg } from './dynptr.js';
import { kernelBtf } from './kernel-btf.js';
import { isTrustedReg } from './kfunc-args.js';
import { checkExceptionCbProto } from './exception-entry.js';

export function findGlobalFuncs(env: Verifier): void {
  const fi = env.input.funcInfo;
  const btf = env.input.btf as Btf | undefined;
  if (!fi?.length || !btf || typeof (btf as { typeById?: unknown }).typeById !== 'function') return;
  const starts = env.cfg.subprogStarts;
  // which functions (transitively) call a helper that moves the packet (the kernel's changes_pkt_data)
  const own = starts.map(() => false);
  for (let i = 0; i < env.insns.length; i++) {
    const ins = env.insns[i]!;
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_HELPER && callChangesPktData(ins.imm, env.helper(ins.imm)?.proto)) own[env.cfg.subprogOf[i]!] = true;
  }
  const changes = (k: number, seen = new Set<number>()): boolean => {
    if (own[k]) return true;
    seen.add(k);
    for (const c of env.cfg.callees[k] ?? []) if (!seen.has(c) && changes(c, seen)) return true;
    return false;
  };
  for (let k = 1; k < starts.length; k++) {
    const typeId = fi.find((x) => x.insnOff === starts[k])?.typeId;
    if (typeId !== undefined && isGlobalFunc(btf, typeId)) env.globals.set(k, { start: starts[k]!, typeId, called: false, verified: false, changesPkt: changes(k) });
  }
}

/** The argument types of global function k (btf_prepare_func_args), or a Reject with the kernel's reason. */
function globalProto(env: Verifier, k: number, at: number): GlobalProto {
  const g = env.globals.get(k)!;
  if (g.proto) return g.proto;
  const kern = env.input.kernelBtf ? { btf: env.input.kernelBtf, shipped: false } : { btf: kernelBtf(), shipped: true };
  const p = prepareGlobalFunc(env.input.btf as Btf, g.typeId, env.rules.name, k, kern);
  if ('message' in p) {
    const name = funcName(env.input.btf as Btf, g.typeId, k);
    throw new Reject({
      errno: p.errno,
      message: at === g.start ? p.message : `${p.message}\nCaller passes invalid args into func#${k} ('${name}')`,
      insn: at,
      hint: p.errno === 'ENOTSUPP' ? undefined : 'global functions must return an integer and take integers, the context, or pointers to sized types',
      rule: `the BTF prototype of global function ${name}() is not one Linux can verify`,
    });
  }
  g.proto = p;
  return p;
}

/** do_check_common for a global function: its own state, arguments typed from its prototype. */
export function verifyGlobalFunc(env: Verifier, k: number, g: { start: number; typeId: number }): void {
  const p = globalProto(env, k, g.start);
  if (env.logLevel > 0) {
    env.log('');
    env.log(`Validating ${p.name}() func#${k}...`);
  }
  checkExceptionCbProto(env, k, p);
  const st = new VerifierState();
  const f = new Frame(0, -1, g.start);
  p.args.forEach((a, j) => {
    // (a dynptr argument: do_check_common assumes a const LOCAL dynptr, as a drain callback's)
    // (a trusted argument holds no reference: the callee may use it, never release it)
    f.regs[j + 1] = a.kind === 'ctx' ? Reg.ptr('ctx') : a.kind === 'scalar' ? Reg.unknown() : a.kind === 'dynptr' ? callbackDynptr(env)
      : a.kind === 'trusted' ? Reg.ptr('btf_id', { btfId: a.btfId, btfName: a.btfName, btfFlags: 'trusted', maybeNull: a.nullable, id: env.newId() })
      : Reg.ptr('mem', { memSize: a.size, maybeNull: a.nullable, id: env.newId() });
  });
  f.regs[10] = Reg.ptr('fp', { frameno: 0 });
  st.frames.push(f);
  env.cp = null;
  env.curStates++;
  explore(env, st, g.start);
  if (env.logLevel > 0) env.log(`Func#${k} ('${p.name}') is safe for any args that match its prototype`);
}

/**
 * check_func_call for a global function: the caller's registers are
 * checked against the prototype (btf_check_func_arg_match), the function
 * is queued for its own verification, and the caller continues with r0 an
 * unknown number and r1-r5 clobbered.
 */
export function checkGlobalCall(env: Verifier, i: number, k: number): number {
  const g = env.globals.get(k)!;
  const name = funcName(env.input.btf as Btf, g.typeId, k);
  const invalid = (detail: string, errno: Errno = 'EINVAL', regs: number[] = [], hint?: string): never => {
    throw new Reject({
      errno: errno === 'EACCES' ? 'EINVAL' : errno,
      message: `${detail}\nCaller passes invalid args into func#${k} ('${name}')`,
      insn: i,
      regs: regs,
      hint: hint,
      rule: `the arguments do not match the BTF prototype of global function ${name}()`,
    });
  };
  const p = globalProto(env, k, i);
  // Linux 6.12 refused global calls with preemption disabled; 6.18 allows them (tsbpf's
  // global functions cannot sleep: it implements no sleepable helper or kfunc).
  const regs = env.regs();
  p.args.forEach((a, j) => {
    const r = j + 1;
    const reg = env.readReg(r);
    if (a.kind === 'scalar') {
      if (reg.type !== 'scalar') invalid(`R${r} is not a scalar`, 'EINVAL', [r], `argument ${j} of ${name}() is an integer in its prototype`);
      return;
    }
    if (a.kind === 'ctx') {
      if (reg.type === 'ctx' && (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n))
        invalid(`dereference of modified ctx ptr R${r} off=${reg.off} disallowed`, 'EINVAL', [r], 'pass the context pointer the program received, unmoved');
      if (reg.type !== 'ctx') invalid(`arg#${j} expects pointer to ctx`, 'EINVAL', [r], `argument ${j} of ${name}() is the program's context in its prototype`);
      return;
    }
    if (a.kind === 'dynptr') {
      // btf_check_func_arg_match: process_dynptr_func on an initialised dynptr, read-only
      try {
        processDynptrArg(env, i, r, { rdonly: true }, false);
      } catch (e) {
        if (e instanceof Reject) invalid(e.kernelMessage, e.errno, [r], `argument ${j} of ${name}() is an initialised struct bpf_dynptr`);
        throw e;
      }
      return;
    }
    if (a.kind === 'trusted') {
      // btf_check_func_arg_match: NULL itself passes a nullable argument; otherwise a pointer that holds a
      // reference or is trusted (is_trusted_reg: Linux 6.18 refuses RCU and plain kernel pointers, which
      // 6.12 took), then check_reg_type against btf_ptr_types, btf_struct_ids_match, check_func_arg_reg_off
      if (a.nullable && reg.isNull) return;
      if (!isTrustedReg(reg)) invalid(`R${r} must be referenced or trusted`, 'EINVAL', [r], `argument ${j} of ${name}() is a trusted pointer: pass one the program was given trusted, or acquired`);
      const hint = `argument ${j} of ${name}() is a trusted pointer to struct ${a.btfName}`;
      if (!isBtfIdArgType(reg, a.nullable)) invalid(`R${r} type=${regTypeStr(reg)} expected=${BTF_ID_ARG_TYPES}`, 'EACCES', [r], hint);
      const fault = btfStructArgFault(env, r, reg, a.btfName);
      if (fault) invalid(fault.message, 'EACCES', [r], fault.structMismatch ? hint : undefined);
      return;
    }
    // check_mem_reg: NULL is fine; otherwise `size` bytes the callee may read and write
    if (reg.isNull) return;
    const asNonNull = reg.clone();
    asNonNull.maybeNull = false;
    try {
      helperMemAccess(env, r, asNonNull, a.size, false);
      if (reg.type !== 'fp') helperMemAccess(env, r, asNonNull, a.size, true);
    } catch (e) {
      if (e instanceof Reject) invalid(e.kernelMessage, 'EINVAL', [r], `argument ${j} of ${name}() points to ${a.size} bytes the function may read and write`);
      throw e;
    }
    if (!a.nullable && reg.maybeNull) invalid(`arg#${j} is expected to be non-NULL`, 'EINVAL', [r]);
  });
  if (env.logLevel > 0) {
    env.flushInsnLog();
    env.log(`Func#${k} ('${name}') is global and assumed valid.`);
  }
  g.called = true;
  if (g.changesPkt) for (const r of env.cur.allRegs((x) => x.isPkt || x.type === 'pkt_end' || isPktSlice(x))) Object.assign(r, Reg.unknown());
  for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
  regs[0] = Reg.unknown();
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  return i + 1;
}

/** The end of a global function verified on its own: its sections closed, its references released, a number returned. */
export function checkGlobalExit(env: Verifier, i: number, r0: Reg): number {
  const st = env.cur;
  if (st.rcuLock) throw new Reject({
    errno: 'EINVAL',
    message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_rcu_read_lock-ed region',
    insn: i,
    hint: 'call bpf_rcu_read_unlock() before returning',
  });
  if (st.preemptLock) throw new Reject({
    errno: 'EINVAL',
    message: 'BPF_EXIT instruction in main prog cannot be used inside bpf_preempt_disable-ed region',
    insn: i,
    hint: 'call bpf_preempt_enable() before returning',
  });
  if (st.refs.length) throw unreleasedRef(env, i);
  if (r0.type !== 'scalar')
    throw new Reject({
      errno: 'EINVAL',
      message: `At subprogram exit the register R0 is not a scalar value (${regTypeStr(r0)})`,
      insn: i,
      regs: [0],
      hint: 'global functions return a number',
      rule: 'a global function returns a pointer',
    });
  return -1;
}
