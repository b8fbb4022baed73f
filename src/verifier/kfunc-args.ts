/**
 * The arguments and the result of a kfunc that takes or returns kernel
 * objects (kfuncs.ts KfuncSig), as check_kfunc_args and check_kfunc_call
 * judge them: a pointer argument must be a PTR_TO_BTF_ID of the struct the
 * prototype names, not NULL, trusted (or RCU-protected where the kfunc is
 * KF_RCU), and a KF_RELEASE argument must hold a reference; a KF_ACQUIRE
 * kfunc returns a referenced pointer (maybe NULL with KF_RET_NULL) that
 * every path must release before it exits ("Unreleased reference").
 */
import { Reg, regTypeStr, isMemAlloc } from './types.js';
import { BPF_MAX_VAR_OFF } from './env.js';
import { Reject } from './reject.js';
import type { Verifier } from './env.js';
import type { KfuncSig } from './kfuncs.js';
import { kernelBtf, kernelStruct, pointsToStruct } from './kernel-btf.js';
import { helperMemAccess } from './helper-args.js';
import { checkPtrUnmoved } from './ptr-off.js';
import type { BtfType } from '../object/btf/types.js';

/**
 * is_trusted_reg: a pointer that holds a reference, or is flagged trusted
 * (tracing arguments, bpf_get_current_task_btf). is_rcu_reg: MEM_RCU.
 */
export function isTrustedReg(r: Reg): boolean {
  return r.type === 'btf_id' && (r.refObjId !== 0 || r.btfFlags === 'trusted');
}

/** btf_struct_ids_match, not strict: a struct `want` at the kernel object pointer's constant offset. */
function beginsWith(env: Verifier, reg: Reg, want: string): boolean {
  return reg.off >= 0 && reg.s.isConst() && reg.s.varOff.value === 0n && pointsToStruct(env, reg, want);
}

/** check_kfunc_args: each argument register against the prototype; returns the reference a KF_RELEASE kfunc releases. */
export function checkKfuncArgs(env: Verifier, i: number, name: string, sig: KfuncSig): number {
  const trustedArgs = sig.trustedArgs || sig.release; // is_kfunc_trusted_args: KF_RELEASE implies it
  let releaseRef = 0;
  sig.args.forEach((arg, n) => {
    const regno = n + 1;
    if (arg === 'ignore') return;
    if (arg === 'mem_size') return kfuncMemSizePair(env, i, name, regno, 'pass a buffer and its size (sizeof the buffer, or a bounded length)');
    const reg = env.readReg(regno);
    const fail = (errno: 'EINVAL' | 'EACCES', message: string, hint?: string): never => {
      throw new Reject({ errno, message, insn: i, regs: [regno], ...(hint ? { hint } : {}), rule: `argument ${n} of ${name} is not what its prototype asks` });
    };
    if (arg === 'scalar') {
      if (reg.type !== 'scalar') fail('EINVAL', `R${regno} is not a scalar`);
      return;
    }
    // is_kfunc_arg_nullable: NULL passes, and a maybe-NULL pointer is not refused for it
    if (arg.nullable && reg.isNull) return;
    if ((trustedArgs || sig.rcu) && (reg.isNull || reg.maybeNull) && !arg.nullable)
      fail('EACCES', `Possibly NULL pointer passed to trusted arg${n}`, 'compare the pointer with NULL before passing it');
    if (reg.refObjId && sig.release) releaseRef = reg.refObjId;
    // get_kfunc_ptr_arg_type: only a kernel object (or a map, typed struct bpf_map) is a PTR_TO_BTF_ID argument;
    // anything else would be memory, which a struct of pointers cannot be
    if (reg.type !== 'btf_id' && reg.type !== 'map_ptr' && reg.type !== 'sock' && reg.type !== 'sock_common' && reg.type !== 'tcp_sock') {
      // KF_ARG_PTR_TO_MEM: a struct of scalars only (struct cpumask, struct bpf_cpumask) is
      // memory of its size the kfunc may read and write (check_mem_reg)
      const size = scalarStructSize(env, arg.struct);
      // Linux 6.18 (recorded: cm_release_twice, cm_acquire_stack) wants a trusted kernel object
      // for a KF_TRUSTED_ARGS or KF_RELEASE kfunc's struct even where the struct is all scalars
      if (size !== undefined && trustedArgs) fail('EINVAL', `R${regno} must be referenced or trusted`,
        'pass a pointer a kfunc acquired and has not released yet');
      if (size !== undefined) return kfuncMemArg(env, i, regno, reg, size);
    }
    if (reg.type !== 'btf_id' && reg.type !== 'map_ptr')
      fail('EINVAL', `arg#${n} pointer type STRUCT ${arg.struct} must point to scalar, or struct with scalar`,
        `pass a pointer to a kernel struct ${arg.struct} (a tracing argument, bpf_get_current_task_btf(), or a pointer acquired from a kfunc)`);
    if ((trustedArgs || sig.rcu) && reg.type === 'btf_id' && !isTrustedReg(reg)) {
      if (!sig.rcu) fail('EINVAL', `R${regno} must be referenced or trusted`,
        'pass a trusted pointer: a tracing argument, bpf_get_current_task_btf(), or one acquired from a kfunc; pointers read from kernel objects are not');
      if (reg.btfFlags !== 'rcu') fail('EINVAL', `R${regno} must be a rcu pointer`,
        'pass a trusted or RCU-protected pointer; pointers read from kernel objects through untrusted ones are neither');
    }
    // check_func_arg_reg_off: what a release kfunc gets back must be the pointer it handed out
    if (sig.release && reg.refObjId && (reg.off !== 0 || !reg.s.isConst() || reg.s.varOff.value !== 0n))
      fail('EINVAL', `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`);
    // process_kf_arg_ptr_to_btf_id: the struct must be the one the prototype names, exactly for a
    // release of a reference (strict_type_match), else also a struct that begins with one at the
    // pointer's offset (btf_struct_ids_match: &cgrp->self is a struct cgroup_subsys_state)
    const has = reg.type === 'map_ptr' ? 'bpf_map' : reg.btfName;
    // (a program-allocated object's struct is one of the program's BTF, never the kernel's: btf_struct_ids_match compares the BTFs too)
    if ((has !== arg.struct || reg.off !== 0 || isMemAlloc(reg.btfFlags)) && (reg.type !== 'btf_id' || isMemAlloc(reg.btfFlags) || (sig.release && reg.refObjId !== 0) || !beginsWith(env, reg, arg.struct)))
      fail('EINVAL', `kernel function ${name} args#${n} expected pointer to STRUCT ${arg.struct} but R${regno} has a pointer to STRUCT ${has}`);
  });
  if (sig.release && !releaseRef)
    throw new Reject({
      errno: 'EINVAL',
      message: `release kernel function ${name} expects refcounted PTR_TO_BTF_ID`,
      insn: i,
      hint: `pass ${name} a pointer a kfunc acquired (bpf_task_acquire(), bpf_task_from_pid(), ...) and has not been released yet`,
      rule: `${name} releases a reference, and its argument holds none`,
    });
  return releaseRef;
}

/**
 * __btf_type_is_scalar_struct: the size of struct `name` of the kernel BTF the program is judged
 * against if its members are scalars, arrays of scalars or such structs (three levels deep at
 * most), else undefined.
 */
function scalarStructSize(env: Verifier, name: string): number | undefined {
  const btf = env.input.kernelBtf ?? kernelBtf();
  const scalarOnly = (t: BtfType, rec: number): boolean => {
    if (t.kind !== 'struct' && t.kind !== 'union') return false;
    for (const m of t.members) {
      let mt = btf.typeById(btf.resolve(m.typeId));
      if (mt.kind === 'struct' || mt.kind === 'union') {
        if (rec >= 3 || !scalarOnly(mt, rec + 1)) return false;
        continue;
      }
      if (mt.kind === 'array') {
        if (!mt.nelems) return false;
        mt = btf.typeById(btf.resolve(mt.elemTypeId));
      }
      if (mt.kind !== 'int' && mt.kind !== 'enum' && mt.kind !== 'enum64') return false;
    }
    return true;
  };
  const t = btf.typeByName(name, 'struct');
  return t?.kind === 'struct' && scalarOnly(t, 0) ? t.size : undefined;
}

/** check_func_arg_reg_off then check_mem_reg for a KF_ARG_PTR_TO_MEM argument: `size` bytes the kfunc may read and write. */
function kfuncMemArg(env: Verifier, i: number, regno: number, reg: Reg, size: number): void {
  if (reg.type !== 'scalar' && reg.type !== 'fp' && reg.type !== 'pkt' && reg.type !== 'pkt_meta' && reg.type !== 'map_key' && reg.type !== 'map_value' && reg.type !== 'mem')
    checkPtrUnmoved(i, regno, reg);
  if (reg.isNull) return;
  const asNonNull = reg.clone();
  asNonNull.maybeNull = false;
  helperMemAccess(env, regno, asNonNull, size, false);
  if (reg.type !== 'fp') helperMemAccess(env, regno, asNonNull, size, true);
}

/**
 * KF_ARG_PTR_TO_MEM_SIZE (check_kfunc_mem_size_reg): the buffer in `bufReg` and its size in the
 * next register; the size a bounded, non-negative scalar (0 allowed), the buffer readable and
 * writable for its largest value (a maybe-NULL buffer checked as if not NULL).
 */
export function kfuncMemSizePair(env: Verifier, i: number, name: string, bufReg: number, hint: string): void {
  const buf = env.readReg(bufReg), size = env.readReg(bufReg + 1);
  const sizeReg = bufReg + 1;
  try {
    const bad = (message: string): never => {
      throw new Reject({ errno: 'EACCES', message, insn: i, regs: [sizeReg] });
    };
    if (size.type !== 'scalar') bad(`R${sizeReg} type=${regTypeStr(size)} expected=scalar`);
    const s = size.s;
    if (s.smin < 0n) bad(`R${sizeReg} min value is negative, either use unsigned or 'var &= const'`);
    if (s.umax >= BigInt(BPF_MAX_VAR_OFF)) bad(`R${sizeReg} unbounded memory access, use 'var &= const' or 'if (var < const)'`);
    const b = buf.clone();
    b.maybeNull = false;
    helperMemAccess(env, bufReg, b, Number(s.umax), false);
    helperMemAccess(env, bufReg, b, Number(s.umax), true);
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    throw new Reject({
      errno: e.errno,
      message: `${e.kernelMessage}\narg#${bufReg - 1} arg#${bufReg} memory, len pair leads to invalid memory access`,
      insn: i,
      regs: [bufReg, sizeReg],
      hint,
      rule: `the buffer of ${name} is not valid for its size`,
    });
  }
}

/** The reference's release: every copy of the pointer becomes unusable (release_reference, mark_reg_invalid). */
export function releaseKfuncRef(env: Verifier, ref: number): void {
  env.cur.refs = env.cur.refs.filter((x) => x.id !== ref);
  for (const r of env.cur.allRegs((x) => x.refObjId === ref)) Object.assign(r, env.privileged ? Reg.unknown() : Reg.notInit());
}

/** r0 after the call: a pointer to the returned kernel struct (referenced for KF_ACQUIRE, maybe NULL for KF_RET_NULL). */
export function kfuncRet(env: Verifier, i: number, name: string, sig: KfuncSig): Reg {
  if (sig.ret === 'void') return Reg.notInit();
  if (sig.ret === 'scalar') return Reg.unknown();
  const t = kernelStruct(env, sig.ret.struct, i, `${name} returns struct ${sig.ret.struct}, which the kernel BTF given lacks`);
  const r0 = Reg.ptr('btf_id', { btfId: t.id, btfName: sig.ret.struct });
  markKfuncRet(env, i, r0, sig);
  return r0;
}

/** check_kfunc_call's end: r0-r5 clobbered (clear_caller_saved_regs), r0 the result; the next instruction. */
export function setKfuncResult(env: Verifier, i: number, r0: Reg): number {
  const regs = env.regs();
  for (let r = 0; r <= 5; r++) regs[r] = Reg.notInit();
  regs[0] = r0;
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  return i + 1;
}

/** check_kfunc_call's marks on the pointer r0: maybe NULL for KF_RET_NULL, referenced for KF_ACQUIRE. */
export function markKfuncRet(env: Verifier, i: number, r0: Reg, sig: Pick<KfuncSig, 'acquire' | 'retNull'>): void {
  // check_kfunc_call: KF_RET_NULL takes an id for the NULL check, KF_ACQUIRE another for the
  // reference, which then serves as both (the numbers the log and "Unreleased reference" print)
  if (sig.retNull) {
    r0.maybeNull = true;
    r0.id = env.newId();
  }
  if (sig.acquire) {
    const ref = env.newId();
    if (sig.retNull) r0.id = ref;
    r0.refObjId = ref;
    env.cur.refs.push({ id: ref, insn: i });
  }
}
