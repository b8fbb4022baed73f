/**
 * bpf_check: the stages of a verification in the kernel's order. Rules of
 * the program type and attach target, instruction validation
 * (isa/validate.ts), the control-flow graph (cfg.ts: check_cfg,
 * check_subprogs), the checks that need no state (kfunc calls,
 * ldimm64 forms), the path exploration of the main program (do-check.ts)
 * and then of each global function it calls (do_check_subprogs), and last
 * the stack depth of each call chain (check_max_stack_depth).
 */
import { callsKfuncCallback } from './kfuncs.js';
import { resolveKsym } from './ksym.js';
import { checkLockMapProgType } from './spin-lock.js';
import * as op from '../isa/opcodes.js';
import type { Btf } from '../object/btf/btf.js';
import { InstructionError } from '../errors.js';
import { validateProgram } from '../isa/validate.js';
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { type Verifier, GPL_COMPATIBLE, type VerifierInput, COMPLEXITY_LIMIT } from './env.js';
import { VerifierState, Frame } from './state.js';
import { kernelBtf, tracingTarget } from './kernel-btf.js';
import { explore } from './do-check.js';
import { returnsScalar } from './global-func.js';
import { buildCfg, CfgError } from './cfg.js';
import { KFUNCS } from './kfuncs.js';
import type { ProgTypeRules } from './progtypes/index.js';
import { tracingRules, type TracingAttach, type TracingTarget } from './progtypes/tracing.js';
import { iterFunc, iterTarget } from './progtypes/iter.js';
import { lsmFunc, lsmHookProblem, lsmRules, type LsmAttach } from './progtypes/lsm.js';
import { structOpsRules } from './progtypes/struct-ops.js';
import { checkAbnormalReturn, checkAbnormalReturnType, checkMaxStackDepth } from './stack-depth.js';
import { findExceptionCallback } from './exception-cb.js';
import { BPF_THROW } from './throw.js';
import { markExceptionCbCalled } from './exception-entry.js';
import { findGlobalFuncs, verifyGlobalFunc } from './call-global.js';

// ------------------------------------------------------------------
export function bpfCheck(env: Verifier): void {
  const n = env.insns.length;
  // bpf_prog_load: insn_cnt 0 is E2BIG, as a program past the size limit
  if (n === 0) throw new Reject({ errno: 'E2BIG', message: 'program is empty', insn: 0 });
  if (n > COMPLEXITY_LIMIT || (!env.privileged && n > op.BPF_MAXINSNS))
    throw new Reject({
      errno: 'E2BIG',
      message: `program of ${n} insns is too large (limit ${env.privileged ? COMPLEXITY_LIMIT : op.BPF_MAXINSNS})`,
      insn: 0,
    });
  // The kernel (check_attach_btf_id) refuses a syscall program loaded without
  // BPF_F_SLEEPABLE (1 << 4); libbpf sets the flag for SEC("syscall"), and the
  // object reader marks such programs sleepable (ProgramSpec.sleepable).
  const sleepable = env.sleepable;
  if (env.rules.name === 'syscall' && !sleepable)
    throw new Reject({
      errno: 'EINVAL',
      message: 'Syscall programs can only be sleepable',
      insn: 0,
      hint: 'use the SEC("syscall") section, which libbpf loads as sleepable',
    });
  // check_attach_btf_id, can_be_sleepable: which programs may sleep at all
  const attach = env.input.attachType ?? '';
  const canSleep = env.rules.name === 'tracing' ? ['trace_fentry', 'trace_fexit', 'modify_return', 'trace_iter'].includes(attach)
    : env.rules.name === 'lsm' ? attach !== 'lsm_cgroup'
      : env.rules.name === 'kprobe' || env.rules.name === 'struct_ops' || env.rules.name === 'syscall';
  if (sleepable && !canSleep)
    throw new Reject({
      errno: 'EINVAL',
      message: 'Only fentry/fexit/fmod_ret, lsm, iter, uprobe, and struct_ops programs can be sleepable',
      insn: 0,
      hint: 'drop BPF_F_SLEEPABLE (a `.s` section suffix), or attach with fentry/fexit/fmod_ret, lsm, iter or uprobe',
    });
  if (!env.privileged && !env.rules.unprivileged)
    throw new Reject({ errno: 'EPERM', message: `program type ${env.rules.name} needs privileges (CAP_BPF) to load`, insn: 0 });
  checkUnprivCalls(env);
  try {
    // Malformed encodings first (reserved fields, registers past r10, broken lddw pairs, jumps into the middle of one).
    validateProgram(env.insns);
  } catch (e) {
    if (e instanceof InstructionError) throw new Reject({
      errno: 'EINVAL',
      message: e.reason,
      insn: e.index,
      rule: `malformed instruction: ${e.reason}`,
    });
    throw e;
  }
  // bpf_find_exception_callback_insn_off (exception-cb.ts), in add_subprog_and_kfunc: a tag the kernel
  // cannot follow refuses the load; the callback it finds is a function of its own and a second root
  // of check_cfg (exception-entry.ts)
  const exCb = findExceptionCallback(env.input.btf, env.input.funcInfo);
  if (exCb.kind === 'error')
    throw new Reject({
      errno: exCb.errno,
      message: exCb.message,
      insn: 0,
      hint: 'tag the main program with one __exception_cb(NAME) naming a global, non-hidden function the program contains',
      rule: 'the exception callback tag names no function of the program',
    });
  if (exCb.kind === 'found') env.exceptionCb = exCb.insnOff;
  try {
    env.cfg = buildCfg(env.insns, {
      allowLoops: env.privileged,
      helperArgs: (id) => env.helper(id)?.proto.args.length ?? 5,
      syncCallbackKfunc: (i) => callsKfuncCallback(env, i),
      ...(env.exceptionCb !== undefined ? { exceptionCb: env.exceptionCb } : {}),
    });
  } catch (e) {
    if (e instanceof CfgError) throw new Reject({ errno: 'EINVAL', message: e.message, insn: e.insn });
    throw e;
  }
  markIterNext(env);
  checkInsnsStatic(env);
  if (!env.input.funcInfo?.length) {
    const e = checkAbnormalReturn(env.insns, env.cfg.subprogStarts);
    if (e) throw new Reject({
      errno: 'EINVAL',
      message: e.message,
      insn: e.insn,
      hint: 'build with `clang -g` so that the object carries BTF func_info',
      rule: 'a function other than the main program uses LD_ABS/LD_IND or a tail call without BTF',
    });
  } else {
    const fi = env.input.funcInfo;
    const e = checkAbnormalReturnType(env.insns, env.cfg.subprogStarts, (k) => returnsScalar(env.input.btf as Btf | undefined, fi.find((x) => x.insnOff === env.cfg.subprogStarts[k])?.typeId));
    if (e) throw new Reject({
      errno: 'EINVAL',
      message: e.message,
      insn: e.insn,
      hint: 'declare the function to return int: LD_ABS/LD_IND and tail calls may return from it early with r0 = 0',
      rule: 'a function that may return early (LD_ABS/LD_IND, tail call) must return an integer',
    });
  }
  findGlobalFuncs(env);
  markExceptionCbCalled(env);
  const st = new VerifierState();
  const f = new Frame(0, -1, 0);
  f.regs[1] = Reg.ptr('ctx');
  f.regs[10] = Reg.ptr('fp', { frameno: 0 });
  st.frames.push(f);
  env.curStates = 1;
  env.peakStates = 1;
  explore(env, st, 0);
  // do_check_subprogs: then each global function a verified path called, once, on its own
  for (let progress = true; progress; ) {
    progress = false;
    for (const [k, g] of env.globals) {
      if (!g.called || g.verified) continue;
      g.verified = progress = true;
      verifyGlobalFunc(env, k, g);
    }
  }
  // check_max_stack_depth (stack-depth.ts): the static call graph's chains, at most 8 frames and 512 bytes of stack.
  const privStackType = ['kprobe', 'tracepoint', 'perf_event', 'raw_tracepoint', 'tracing'].includes(env.rules.name);
  const e = checkMaxStackDepth(env.insns, env.cfg.subprogStarts, (k) => env.stackDepth[k] ?? 0, privStackType, env.asyncCallbacks,
    (i) => env.input.kfuncOfInsn?.(i) === BPF_THROW, env.exceptionCb);
  if (e) throw new Reject({ errno: e.errno, message: e.message, insn: e.insn, hint: e.hint, rule: e.rule });
}

/**
 * add_subprog_and_kfunc, the kernel's first pass over the program: without
 * CAP_BPF, any bpf-to-bpf call, kfunc call or lddw of a function (a
 * callback), reachable or not, refuses the load before anything else is
 * looked at.
 */
function checkUnprivCalls(env: Verifier): void {
  if (env.privileged) return;
  for (let i = 0; i < env.insns.length; i++) {
    const ins = env.insns[i]!;
    const call = ins.code === op.OP_CALL && (ins.src === op.BPF_PSEUDO_CALL || ins.src === op.BPF_PSEUDO_KFUNC_CALL);
    if (call || (ins.code === op.OP_LDDW && ins.src === op.BPF_PSEUDO_FUNC))
      throw new Reject({
        errno: 'EPERM',
        message: 'loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN',
        insn: i,
        hint: 'an unprivileged program is one function: inline the callee (`static __always_inline`)',
        rule: 'bpf-to-bpf calls, kfunc calls and callbacks need CAP_BPF',
      });
  }
}

/** Static checks that need no state: registers in range, reserved fields, writes to r10. */
function checkInsnsStatic(env: Verifier): void {
  for (let i = 0; i < env.insns.length; i++) {
    const ins = env.insns[i]!;
    // add_subprog_and_kfunc / add_kfunc_call: every kfunc call, reachable or not, before the walk
    if (ins.code === op.OP_CALL && ins.src === op.BPF_PSEUDO_KFUNC_CALL) {
      if (!GPL_COMPATIBLE.has(env.input.license ?? 'GPL'))
        throw new Reject({
          errno: 'EINVAL',
          message: 'cannot call kernel function from non-GPL compatible program',
          insn: i,
          hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
          rule: 'kfuncs are only available to GPL-compatible programs',
        });
      // add_kfunc_call: id 0 with offset 0 (a call the loader left unresolved) is only an error
      // if the walk reaches it (checkKfuncCall), so that dead calls may stay in the program.
      if (!env.input.kfuncOfInsn?.(i) && !(ins.imm === 0 && ins.off === 0))
        throw new Reject({
          errno: 'EINVAL',
          message: `kernel btf_id ${ins.imm >>> 0} is not a function`,
          insn: i,
          hint: 'name kfuncs with `extern ... __ksym` declarations so that the loader can resolve them',
          rule: 'the call names no kernel function tsbpf knows',
        });
    }
    if (ins.code === op.OP_LDDW) {
      // check_pseudo_btf_id: a typed ksym (`extern const struct rq runqueues __ksym;`) must be a
      // variable (or function) of the kernel BTF, for every lddw, reached or not (ksym.ts).
      if (ins.src === op.BPF_PSEUDO_BTF_ID) resolveKsym(env, i);
      // check_map_prog_compatibility, for every map the program refers to
      if (ins.src === op.BPF_PSEUDO_MAP_FD || ins.src === op.BPF_PSEUDO_MAP_IDX || ins.src === op.BPF_PSEUDO_MAP_VALUE || ins.src === op.BPF_PSEUDO_MAP_IDX_VALUE) {
        const m = env.maps[(env.input.mapOfInsn ? env.input.mapOfInsn(i) : ins.imm) ?? -1];
        if (m) checkLockMapProgType(env, i, m);
      }
      // resolve_pseudo_ldimm64: a map-fd lddw's second imm must be 0 (only a map value's carries
      // an offset), and the pseudo source must be one Linux knows; dead code is no exception.
      const mapFd = ins.src === op.BPF_PSEUDO_MAP_FD || ins.src === op.BPF_PSEUDO_MAP_IDX;
      if ((mapFd && env.insns[i + 1]!.imm !== 0) || ins.src > op.BPF_PSEUDO_MAP_IDX_VALUE)
        throw new Reject({
          errno: 'EINVAL',
          message: 'unrecognized bpf_ld_imm64 insn',
          insn: i,
          hint: mapFd ? 'the second half of a map lddw must be zero: only BPF_PSEUDO_MAP_VALUE carries an offset there' : undefined,
          rule: 'an lddw with a pseudo source Linux does not define, or a map lddw with a non-zero second immediate',
        });
      i++;
    }
  }
}

const TRACING_ATTACH: ReadonlySet<string> = new Set(['trace_fentry', 'trace_fexit', 'modify_return', 'trace_raw_tp', 'trace_iter']);
const LSM_ATTACH: ReadonlySet<string> = new Set(['lsm_mac', 'lsm_cgroup']);

/**
 * The rules of a tracing program (fentry/fexit/fmod_ret/tp_btf) or an lsm
 * program: its context is its target's arguments (bpf_check_attach_target,
 * btf_ctx_access); an lsm program's target is the hook's `bpf_lsm_<hook>`
 * function (progtypes/lsm.ts).
 */
/** check_struct_ops_btf_id (progtypes/struct-ops.ts), against the kernel BTF given or the shipped subset. */
export function structOpsRulesFor(input: VerifierInput): ProgTypeRules {
  if (!GPL_COMPATIBLE.has(input.license ?? 'GPL'))
    throw new Reject({ errno: 'EINVAL', message: 'struct ops programs must have a GPL compatible license', insn: 0 });
  const r = structOpsRules(input.kernelBtf ?? kernelBtf(), input.structOps, input.kernelBtf ? 'the kernel BTF given' : undefined, !!input.sleepable);
  if ('errno' in r) throw new Reject({ errno: r.errno, message: r.message, insn: 0 });
  return r;
}

export function tracingRulesFor(input: VerifierInput): ProgTypeRules {
  const lsm = input.progType === 'lsm';
  // bpf_prog_load_check_attach: an lsm program's expected attach type is lsm_mac or lsm_cgroup
  const attach = input.attachType ?? (lsm ? 'lsm_mac' : undefined);
  if (lsm && !LSM_ATTACH.has(attach!)) throw new Reject({
    errno: 'EINVAL',
    message: `lsm programs need the expected attach type lsm_mac or lsm_cgroup, not ${attach}`,
    insn: 0,
    hint: 'use SEC("lsm/<hook>"), SEC("lsm.s/<hook>") or SEC("lsm_cgroup/<hook>")',
  });
  if (!attach || !input.attachTo) throw new Reject({
    errno: 'EINVAL',
    message: 'Tracing programs must provide btf_id',
    insn: 0,
    hint: lsm ? 'name the hook in the section, e.g. SEC("lsm/file_open")' : 'name the target in the section, e.g. SEC("fentry/bpf_fentry_test1") or SEC("tp_btf/task_newtask")',
  });
  if (!lsm && !TRACING_ATTACH.has(attach))
    throw new Reject({
      errno: 'ENOTSUPP',
      message: `tracing programs of attach type ${attach} are not supported by tsbpf`,
      insn: 0,
      rule: 'tsbpf supports fentry, fexit, fmod_ret, tp_btf and iter tracing programs',
    });
  const btf = input.kernelBtf ?? kernelBtf();
  const iter = attach === 'trace_iter';
  const name = lsm ? lsmFunc(input.attachTo) : iter ? iterFunc(input.attachTo) : input.attachTo;
  let t: TracingTarget | string = tracingTarget(btf, attach as TracingAttach, name, input.kernelBtf ? 'the kernel BTF given' : undefined);
  if (iter && typeof t !== 'string') {
    const it = iterTarget(input.attachTo, t);
    if (typeof it === 'string') throw new Reject({ errno: 'ENOTSUPP', message: it, insn: 0, rule: `tsbpf cannot judge iter/${input.attachTo} programs` });
    t = it;
  }
  if (typeof t === 'string') throw new Reject({
    errno: 'ENOENT',
    message: `failed to find kernel BTF type ID of '${name}': ${t}`,
    insn: 0,
    hint: input.kernelBtf ? undefined : 'tsbpf knows the targets its kernel BTF subset holds (src/verifier/kernel-btf.ts); pass the kernel\'s BTF (--kernel-btf /sys/kernel/btf/vmlinux) for the others',
  });
  if (!lsm) return tracingRules(t);
  const problem = lsmHookProblem(input.attachTo, {
    // a sleepable lsm_cgroup program is refused before its hook is looked at (bpfCheck, can_be_sleepable)
    sleepable: (input.sleepable ?? ((input.progFlags ?? 0) & 16) !== 0) && attach !== 'lsm_cgroup',
    gpl: GPL_COMPATIBLE.has(input.license ?? 'GPL'),
    btfId: btf.typeByName(name, 'func')?.id ?? 0,
  });
  if (problem) throw new Reject({
    errno: 'EINVAL',
    message: problem,
    insn: 0,
    hint: problem.startsWith('LSM programs') ? 'declare `char LICENSE[] SEC("license") = "GPL";`' : undefined,
    rule: 'an lsm program must attach to an enabled LSM hook (sleepable only where the hook may sleep) from a GPL program',
  });
  return lsmRules(t, input.attachTo, attach as LsmAttach);
}

/**
 * visit_insn: a call of an iterator's _next is a prune point where a checkpoint is always made
 * (mark_prune_point, mark_force_checkpoint): iterator loops converge there (iter.ts).
 */
function markIterNext(env: Verifier): void {
  const kfuncOf = env.input.kfuncOfInsn;
  if (!kfuncOf) return;
  for (let i = 0; i < env.insns.length; i++) {
    const ins = env.insns[i]!;
    if (ins.code !== op.OP_CALL || ins.src !== op.BPF_PSEUDO_KFUNC_CALL) continue;
    if (KFUNCS.get(kfuncOf(i) ?? '')?.effect !== 'iter_next') continue;
    env.iterNext.add(i);
    env.cfg.prunePoint[i] = 1;
  }
}
