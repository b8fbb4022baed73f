/**
 * Helper calls (check_helper_call): whether the program may call the helper
 * at all (its type, privileges, license, held references), each argument
 * against its type in the prototype (helper-args.ts), the map's
 * compatibility with the helper (func-compat.ts), references released and
 * packet pointers invalidated by the call, the callback it may call
 * (callback.ts), and r0 from the return type (helper-ret.ts).
 */
import type { HelperProto } from '../uapi/helper-proto.js';
import { Reg } from './types.js';
import { Reject } from './reject.js';
import { type Verifier, GPL_COMPATIBLE } from './env.js';
import { pushStack } from './do-check.js';
import { mapFuncIncompatibility } from './func-compat.js';
import { HELPERS, helperAvailable } from '../uapi/helpers.js';
import { BPF_FUNC, HELPER_TAIL_CALL } from '../uapi/helper-ids.js';
import { mapTypeId } from './btf-access.js';
import { checkExit } from './call.js';
import { pushCallbackCall } from './callback.js';
import { pushAsyncCallback } from './timer.js';
import { type CallArgMeta, checkFuncArg } from './helper-args.js';
import { RET_TYPES } from './helper-ret.js';
import { POISON_HELPER_ID } from '../object/btf/core.js';
import { currentTaskBtf, GET_CURRENT_TASK_BTF } from './btf-helpers.js';
import { helperAllowed, D_PATH_ALLOWLIST } from './helper-allowed.js';
import { dynptrHelperCall, isPktSlice } from './dynptr.js';
import { structOpsHelperRefused } from './progtypes/struct-ops.js';

export function checkHelperCall(env: Verifier, i: number, id: number): number {
  const h = env.helper(id);
  // Its return type (a trusted task_struct pointer) is modelled in btf-helpers.ts.
  if (id === GET_CURRENT_TASK_BTF) return currentTaskBtf(env, i);
  const info = HELPERS.get(id);
  // A helper Linux has whose state tsbpf does not model (the catalog's `unmodelled`): unsupported, not a verdict.
  if (!h && info?.unmodelled) throw new Reject({
    errno: 'ENOTSUPP',
    message: `bpf_${info.name}#${id} is not supported by tsbpf: ${info.unmodelled}`,
    insn: i,
    rule: `bpf_${info.name} is not supported by tsbpf`,
  });
  // libbpf's bpf_core_poison_insn: a CO-RE relocation the target could not satisfy, reached
  if (!h && id === POISON_HELPER_ID) throw new Reject({
    errno: 'EINVAL',
    message: `invalid func unknown#${id}`,
    insn: i,
    hint: 'guard the access with bpf_core_field_exists() / bpf_core_type_exists() (or a flavoured type) so that this path is dead where the kernel lacks it; `prog load -d` prints the relocation',
    rule: 'a CO-RE relocation that the kernel BTF cannot satisfy was poisoned (libbpf: "<invalid CO-RE relocation>"), and this path reaches it',
  });
  if (!h) throw new Reject({
    errno: 'EINVAL',
    message: `invalid func unknown#${id}`,
    insn: i,
    hint: 'tsbpf implements the helpers listed by `tsbpf` docs; this id is not one of them',
    rule: `helper #${id} is not available`,
  });
  const proto = h.proto;
  const name = `bpf_${h.name}`;
  // bpf_base_func_proto's capability checks: some helpers only for CAP_BPF or CAP_PERFMON
  if (!env.privileged && info?.privileged)
    throw new Reject({
      errno: 'EINVAL',
      message: `program of this type cannot use helper ${name}#${id}`,
      insn: i,
      rule: `${name} needs privileges (CAP_BPF or CAP_PERFMON)`,
    });
  // the per-type get_func_proto (the catalog's program types; a host's own helper beyond Linux's ids has none)
  // (a struct_ops program's helpers are its ops struct's: bpf_tcp_ca_get_func_proto's for a congestion control)
  if (info && (env.rules.noHelpers || !helperAvailable(env.rules.name, id, env.input.attachType ?? env.input.structOps?.struct) || structOpsHelperRefused(env.input.structOps, h.name)))
    throw new Reject({
      errno: 'EINVAL',
      message: `program of this type cannot use helper ${name}#${id}`,
      insn: i,
      rule: `${name} is not available to ${env.rules.name} programs`,
    });
  if (id === HELPER_TAIL_CALL && env.cur.refs.length)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call would lead to reference leak',
      insn: i,
      hint: 'submit or discard ring buffer reservations before a tail call',
      rule: 'a tail call never returns, so held references would leak',
    });
  if (id === HELPER_TAIL_CALL && env.cur.rcuLock)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call cannot be used inside bpf_rcu_read_lock-ed region',
      insn: i,
      hint: 'call bpf_rcu_read_unlock() before the tail call',
    });
  if (id === HELPER_TAIL_CALL && env.cur.preemptLock)
    throw new Reject({
      errno: 'EINVAL',
      message: 'tail_call cannot be used inside bpf_preempt_disable-ed region',
      insn: i,
      hint: 'call bpf_preempt_enable() before the tail call',
    });
  if (proto.gplOnly) requireGpl(env, i, name);
  // the proto's `allowed` callback (bpf_d_path_allowed, bpf_ima_inode_hash_allowed)
  if (info?.allowed && !helperAllowed(env, info.allowed))
    throw new Reject({
      errno: 'EINVAL',
      message: 'helper call is not allowed in probe',
      insn: i,
      hint: info.allowed === 'd_path'
        ? `${name} is allowed in iterators, sleepable LSM hooks and fentry/fexit of ${[...D_PATH_ALLOWLIST].join(', ')}`
        : info.allowed === 'sk_storage_tracing' ? `${name} is allowed in iterators, raw tracepoints and fentry/fexit of functions other than bpf_sk_storage*`
          : `${name} is allowed only in LSM programs on sleepable hooks`,
      rule: `${name} is not allowed where this program attaches`,
    });
  // might_sleep: only a sleepable program may call it, and never while it holds the RCU read lock or has preemption off
  if (proto.mightSleep && !env.sleepable)
    throw new Reject({
      errno: 'EINVAL',
      message: 'helper call might sleep in a non-sleepable prog',
      insn: i,
      hint: `load the program as sleepable (a \`.s\` section: SEC("uprobe.s"), SEC("lsm.s/..."), SEC("fentry.s/..."), SEC("iter.s/...")) to call ${name}`,
      rule: `${name} may sleep, so only sleepable programs may call it`,
    });
  if (proto.mightSleep && (env.cur.rcuLock || env.cur.preemptLock))
    throw new Reject({
      errno: 'EINVAL',
      message: `sleepable helper ${name}#${id} in ${env.cur.rcuLock ? 'rcu_read_lock region' : 'non-preemptible region'}`,
      insn: i,
      hint: env.cur.rcuLock ? 'call it after bpf_rcu_read_unlock()' : 'call it after bpf_preempt_enable()',
      rule: `${name} may sleep, which a program may not do with ${env.cur.rcuLock ? 'the RCU read lock held' : 'preemption disabled'}`,
    });
  const regs = env.regs();
  const meta: CallArgMeta = { id, name, proto, insn: i, mapIdx: -1, memReg: -1, funcTarget: -1, allocSize: -1, releaseRef: 0, sizeMax: -1n };
  const keyReg = regs[2]!.clone();
  proto.args.forEach((t, k) => {
    if (k >= (info?.checkedArgs ?? 5)) return;
    checkFuncArg(env, meta, k + 1, t);
  });
  // check_map_func_compatibility, both directions (func-compat.ts).
  if (meta.mapIdx >= 0) {
    const mt = env.maps[meta.mapIdx]!.type;
    if (id === HELPER_TAIL_CALL && mt !== 'prog_array')
      throw new Reject({
        errno: 'EINVAL',
        message: 'expected prog array map for tail call',
        insn: i,
        regs: [2],
        hint: 'bpf_tail_call takes a BPF_MAP_TYPE_PROG_ARRAY map',
        rule: 'tail calls go through a program array',
      });
    const why = mapFuncIncompatibility(mt, mapTypeId(mt), id, name, env.rules.name, env.input.attachType);
    if (why) throw new Reject({
      errno: 'EINVAL',
      message: why,
      insn: i,
      regs: [1],
      rule: `${name} cannot be used with a ${mt} map${why.startsWith('cannot update sockmap') ? ` in ${env.rules.name} programs` : ''}`,
    });
  }
  // get_local_storage cannot fail, so it takes no flags (check_helper_call)
  if (id === BPF_FUNC.get_local_storage && !(regs[2]!.type === 'scalar' && regs[2]!.s.isConst() && regs[2]!.s.varOff.value === 0n))
    throw new Reject({
      errno: 'EINVAL',
      message: "get_local_storage() doesn't support non-zero flags",
      insn: i,
      regs: [2],
      hint: 'pass 0 as the flags argument',
    });
  // the dynptr helpers' own checks and releases (dynptr.ts); bpf_dynptr_write may move an skb's data
  const dynptrPkt = meta.dynptr !== undefined || meta.dynptrRelease !== undefined || id === BPF_FUNC.dynptr_from_mem ? dynptrHelperCall(env, meta) : false;
  if (meta.releaseRef) {
    env.cur.refs = env.cur.refs.filter((x) => x.id !== meta.releaseRef);
    for (const r of env.cur.allRegs((x) => x.refObjId === meta.releaseRef)) Object.assign(r, env.privileged ? Reg.unknown() : Reg.notInit());
  }
  if (proto.changesPktData || dynptrPkt) {
    for (const r of env.cur.allRegs((x) => x.isPkt || x.type === 'pkt_end' || isPktSlice(x))) Object.assign(r, Reg.unknown());
  }
  // bpf_loop, bpf_for_each_map_elem, ...: the callback is queued with the arguments the helper passes.
  pushCallbackCall(env, meta);
  // bpf_timer_set_callback: the callback is verified later, on its own (timer.ts)
  if (id === BPF_FUNC.timer_set_callback && meta.funcTarget >= 0) pushAsyncCallback(env, meta);
  for (let r = 1; r <= 5; r++) regs[r] = Reg.notInit();
  if (env.logLevel > 1) for (let r = 0; r <= 5; r++) env.scratchRegs.add(r);
  const ret = RET_TYPES[proto.ret];
  if (!ret) throw new Reject({ errno: 'ENOTSUPP', message: `${name}#${id} returns ${proto.ret}, which tsbpf does not model`, insn: i });
  regs[0] = ret(env, meta, keyReg);
  if (id === BPF_FUNC.map_lookup_elem && meta.mapIdx >= 0) env.aux[i] = { ...(env.aux[i] ?? {}) };
  // A tail call made in a bpf-to-bpf function that succeeds returns to the function's caller, with
  // the tail-called program's r0 and the packet possibly moved. Linux 6.18 explores that return
  // beside the failed call's fall-through (which keeps the packet pointers): pkt pointers of every
  // frame are cleared, r0 is unknown and the function exits. In the main program (or a global
  // function verified on its own) a successful tail call never comes back, so only the
  // fall-through is explored. (Not inside callbacks, whose return value the helper checks.)
  if (id === HELPER_TAIL_CALL && env.cur.frames.length > 1 && !env.cur.frames.some((f) => f.callbackOf !== 0)) {
    const failed = env.cur.clone();
    failed.path = { insn: i, to: i + 1, taken: false, prev: failed.path };
    pushStack(env, failed, i + 1, i);
    for (const r of env.cur.allRegs((x) => x.isPkt || x.type === 'pkt_end' || isPktSlice(x))) Object.assign(r, Reg.unknown());
    env.regs()[0] = Reg.unknown();
    env.cur.path = { insn: i, to: env.cur.cur.callsite + 1, taken: true, prev: env.cur.path };
    return checkExit(env);
  }
  return i + 1;
}

/**
 * Whether a function containing this helper call changes packet data for its callers (the kernel's
 * subprog changes_pkt_data): the helpers that may move the packet, and bpf_tail_call, since a
 * tail call made in a function returns to that function's caller after the tail-called program ran,
 * which may have called any of them (selftest verifier_sock.c invalidate_pkt_pointers_by_tail_call).
 */
export function callChangesPktData(id: number, proto: HelperProto | undefined): boolean {
  return id === HELPER_TAIL_CALL || proto?.changesPktData === true;
}

/** check_helper_call: a gpl_only helper in a program whose license is not GPL-compatible. */
export function requireGpl(env: Verifier, i: number, name: string): void {
  if (!GPL_COMPATIBLE.has(env.input.license ?? 'GPL'))
    throw new Reject({
      errno: 'EINVAL',
      message: 'cannot call GPL-restricted function from non-GPL compatible program',
      insn: i,
      hint: 'declare `char LICENSE[] SEC("license") = "GPL";`',
      rule: `${name} is only available to GPL-compatible programs`,
    });
}
