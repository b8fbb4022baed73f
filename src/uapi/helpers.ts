/**
 * The helper catalog: every helper Linux 6.18 defines (enum bpf_func_id,
 * ids 1..211), with what each layer needs to know about it, in one place:
 *
 * - its prototype, written after the helper's `struct bpf_func_proto` in the
 *   kernel (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, net/core/filter.c,
 *   kernel/bpf/ringbuf.c, kernel/bpf/cgroup.c, ...): what the verifier checks;
 * - which program types may call it (helper-progtypes.ts) and whether the
 *   loader needs CAP_BPF/CAP_PERFMON for it;
 * - the proto's verifier-facing flags (pkt_access, do_refine_retval_range);
 * - why tsbpf's verifier cannot judge a call to it, where it cannot
 *   (`unmodelled`: the program is refused with ENOTSUPP, never with a
 *   verdict Linux does not give);
 * - where tsbpf implements it (`impl`, a module under src/), if it does.
 *
 * The verifier (src/verifier/call-helper.ts and its tables), the runtime's
 * helper registry (src/helpers), the loader, the disassembler (names) and
 * docs/helpers.md (scripts/gen-helper-docs.ts) all read this table.
 */
import { BPF_FUNC, type HelperName } from './helper-ids.js';
import type { ArgType, HelperProto, RetType } from './helper-proto.js';
import * as T from './helper-progtypes.js';
import type { ProgTypeFilter } from './helper-progtypes.js';
import type { ProgTypeName } from './bpf-types.js';
import { LazyMap } from '../lazy-map.js';

export interface HelperInfo {
  readonly id: number;
  /** the kernel's name without the bpf_ prefix */
  readonly name: HelperName;
  readonly proto: HelperProto;
  /** a different prototype some program types get (the kernel's per-type protos of one helper) */
  readonly variant?: HelperVariant | readonly HelperVariant[];
  /** the program types whose get_func_proto returns a proto for it (root's view) */
  readonly progTypes: ProgTypeFilter;
  /** offered only to a loader with CAP_BPF or CAP_PERFMON (bpf_base_func_proto's capability checks) */
  readonly privileged: boolean;
  /** the proto sets pkt_access: a packet pointer may be passed as its memory argument */
  readonly pktAccess: boolean;
  /** R0 is refined to [-MAX_ERRNO, size] by the size argument (do_refine_retval_range) */
  readonly retBoundedBySize: boolean;
  /** a variadic helper whose proto checks only this many leading arguments */
  readonly checkedArgs?: number;
  /** why tsbpf's verifier cannot judge a call to it (the state it would need is not modelled) */
  readonly unmodelled?: string;
  /**
   * The proto's `allowed` callback, by name (the verifier holds the rule): 'd_path' is
   * bpf_d_path_allowed, 'lsm_sleepable_hook' bpf_ima_inode_hash_allowed, 'sk_storage_tracing'
   * bpf_sk_storage_tracing_allowed (its tracing proto's only). Where it says no,
   * the call is refused with "helper call is not allowed in probe".
   */
  readonly allowed?: 'd_path' | 'lsm_sleepable_hook' | 'sk_storage_tracing';
  /** where tsbpf implements it: a module path under src/ (the registry's helpers); absent if it does not */
  readonly impl?: string;
  /** the call a host makes to register an implemented helper the default registry leaves out */
  readonly optIn?: string;
}

/** A prototype some program types get instead of the helper's usual one. */
export interface HelperVariant {
  readonly types: ProgTypeFilter;
  readonly proto: HelperProto;
}

type Extra = Partial<Omit<HelperInfo, 'id' | 'name' | 'proto'>>;

const BTF_OBJ = 'it takes or returns a kernel object (PTR_TO_BTF_ID), which tsbpf does not provide';
/** How a host gets the helpers that read the kernel a test kit models (src/helpers/tracing.ts). */
const KIT = "new TestKit() from 'tsbpf/testing' (it models the kernel) and load through kit.load()";

const p = (ret: RetType, args: ArgType[], extra: Omit<HelperProto, 'ret' | 'args'> = {}): HelperProto => ({ ret, args, ...extra });
const GPL = { gplOnly: true } as const;
const PKT = { changesPktData: true } as const;
const INT0 = p('INTEGER', []);
const CTX = p('INTEGER', ['PTR_TO_CTX']);
const CTX_ANY = p('INTEGER', ['PTR_TO_CTX', 'ANYTHING']);
const CTX_ANY_PKT = p('INTEGER', ['PTR_TO_CTX', 'ANYTHING'], PKT);
const PROBE_READ = p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], GPL);

/** The catalog's rows: a function, run once when HELPERS is first read. */
const entries = (): Array<[HelperName, HelperProto, Extra?]> => [
  // kernel/bpf/helpers.c: maps, time, identity, strings, loops (bpf_base_func_proto)
  ['map_lookup_elem', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY']), { pktAccess: true, impl: 'helpers/maps' }],
  ['map_update_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'PTR_TO_MAP_VALUE', 'ANYTHING']), { pktAccess: true, impl: 'helpers/maps' }],
  ['map_delete_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY']), { pktAccess: true, impl: 'helpers/maps' }],
  ['map_push_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_MAP_VALUE', 'ANYTHING']), { pktAccess: true, impl: 'helpers/maps' }],
  ['map_pop_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MAP_VALUE']), { impl: 'helpers/maps' }],
  ['map_peek_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_UNINIT_MAP_VALUE']), { impl: 'helpers/maps' }],
  ['map_lookup_percpu_elem', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { pktAccess: true }],
  ['ktime_get_ns', INT0, { impl: 'helpers/time' }],
  ['ktime_get_boot_ns', INT0, { impl: 'helpers/time' }],
  ['ktime_get_coarse_ns', INT0, { progTypes: T.COARSE_NS, impl: 'helpers/time' }],
  ['ktime_get_tai_ns', INT0],
  ['jiffies64', INT0, { privileged: true, impl: 'helpers/time' }],
  ['get_prandom_u32', INT0, { impl: 'helpers/random' }],
  ['get_smp_processor_id', INT0, { impl: 'helpers/task' }],
  ['get_numa_node_id', INT0, { impl: 'helpers/task' }],
  ['get_current_pid_tgid', INT0, { impl: 'helpers/task' }],
  ['get_current_uid_gid', INT0, { impl: 'helpers/task' }],
  // (get_current_uid_gid and get_current_comm were tracing-only in 6.12; Linux 6.18 offers them to every type)
  ['get_current_comm', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { privileged: true, impl: 'helpers/task' }],
  ['get_current_task', p('INTEGER', [], GPL), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['get_current_cgroup_id', INT0, { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['get_current_ancestor_cgroup_id', p('INTEGER', ['ANYTHING']), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  // get_ns_current_pid_tgid (bpf_base_func_proto): fills a struct bpf_pidns_info
  ['get_ns_current_pid_tgid', p('INTEGER', ['ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { impl: 'helpers/tracing', optIn: KIT }],
  ['tail_call', p('VOID', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING']), { impl: 'helpers/tailcall' }],
  ['strncmp', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_CONST_STR']), { impl: 'helpers/strings' }],
  // strtol/strtoul: arg 4 is ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_ALIGNED, an aligned writable u64
  ['strtol', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING', 'PTR_TO_LONG'])],
  ['strtoul', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING', 'PTR_TO_LONG'])],
  ['loop', p('INTEGER', ['ANYTHING', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING']), { privileged: true, impl: 'helpers/loop' }],
  ['for_each_map_elem', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING']), { privileged: true, impl: 'helpers/loop' }],
  // send_signal, send_signal_thread: bpf_tracing_func_proto in 6.12; Linux 6.18 offers them to every type, with CAP_PERFMON
  ['send_signal', p('INTEGER', ['ANYTHING']), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['send_signal_thread', p('INTEGER', ['ANYTHING']), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  // spin locks in map values: judged in verifier/spin-lock.ts; no-ops at run time (helpers/spin-lock.ts says why)
  ['spin_lock', p('VOID', ['PTR_TO_SPIN_LOCK']), { privileged: true, impl: 'helpers/spin-lock' }],
  ['spin_unlock', p('VOID', ['PTR_TO_SPIN_LOCK']), { privileged: true, impl: 'helpers/spin-lock' }],
  // timers in map values: judged in verifier/timer.ts (the callback verified as an async callback)
  ['timer_init', p('INTEGER', ['PTR_TO_TIMER', 'CONST_MAP_PTR', 'ANYTHING'], GPL), { privileged: true }],
  ['timer_set_callback', p('INTEGER', ['PTR_TO_TIMER', 'PTR_TO_FUNC'], GPL), { privileged: true }],
  ['timer_start', p('INTEGER', ['PTR_TO_TIMER', 'ANYTHING', 'ANYTHING'], GPL), { privileged: true }],
  ['timer_cancel', p('INTEGER', ['PTR_TO_TIMER'], GPL), { privileged: true }],
  // kernel/bpf/helpers.c and ringbuf.c: dynptrs (verifier/dynptr.ts)
  ['dynptr_from_mem', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'PTR_TO_UNINIT_DYNPTR_LOCAL']), { privileged: true, impl: 'helpers/dynptr' }],
  ['ringbuf_reserve_dynptr', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_DYNPTR_RINGBUF']), { privileged: true, impl: 'helpers/dynptr' }],
  ['ringbuf_submit_dynptr', p('VOID', ['PTR_TO_DYNPTR_RINGBUF', 'ANYTHING'], { releasesArg: 0 }), { privileged: true, impl: 'helpers/dynptr' }],
  ['ringbuf_discard_dynptr', p('VOID', ['PTR_TO_DYNPTR_RINGBUF', 'ANYTHING'], { releasesArg: 0 }), { privileged: true, impl: 'helpers/dynptr' }],
  ['dynptr_read', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'PTR_TO_DYNPTR', 'ANYTHING', 'ANYTHING']), { privileged: true, impl: 'helpers/dynptr' }],
  ['dynptr_write', p('INTEGER', ['PTR_TO_DYNPTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING']), { privileged: true, impl: 'helpers/dynptr' }],
  ['dynptr_data', p('PTR_TO_DYNPTR_MEM_OR_NULL', ['PTR_TO_DYNPTR', 'ANYTHING', 'CONST_ALLOC_SIZE_OR_ZERO']), { privileged: true, impl: 'helpers/dynptr' }],
  ['user_ringbuf_drain', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING']), { privileged: true }],
  ['kptr_xchg', p('PTR_TO_BTF_ID_OR_NULL', ['PTR_TO_KPTR', 'PTR_TO_BTF_ID_OR_NULL'], { releasesArg: 1 }), { privileged: true }],
  // per_cpu_ptr / this_cpu_ptr: a CPU's copy of a per-CPU kernel variable (a typed __ksym), judged in verifier/ksym.ts
  ['per_cpu_ptr', p('PTR_TO_MEM_OR_BTF_ID_OR_NULL', ['PTR_TO_PERCPU_BTF_ID', 'ANYTHING']), { privileged: true }],
  ['this_cpu_ptr', p('PTR_TO_MEM_OR_BTF_ID', ['PTR_TO_PERCPU_BTF_ID']), { privileged: true }],
  // modelled by the verifier in verifier/btf-helpers.ts (its trusted task_struct pointer)
  ['get_current_task_btf', p('PTR_TO_BTF_ID_TRUSTED', [], GPL), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['task_pt_regs', p('PTR_TO_BTF_ID', ['PTR_TO_BTF_ID'], { ...GPL, argStruct: 'task_struct', retStruct: 'pt_regs' }), { privileged: true }],
  // copy_from_user(_task) may fault in user memory: sleepable programs only (might_sleep)
  ['copy_from_user', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], { mightSleep: true }), { privileged: true }],
  ['copy_from_user_task', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'PTR_TO_BTF_ID', 'ANYTHING'], { gplOnly: true, mightSleep: true, argStruct: 'task_struct' }), { privileged: true }],
  // task local storage (kernel/bpf/bpf_task_storage.c): the task (arg2_btf_id) may be NULL, as may the initial value
  ['task_storage_get', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], { argStruct: 'task_struct' }), { privileged: true, impl: 'helpers/storage', optIn: KIT }],
  ['task_storage_delete', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL'], { argStruct: 'task_struct' }), { privileged: true, impl: 'helpers/storage', optIn: KIT }],
  // cgroup and inode local storage (kernel/bpf/bpf_cgrp_storage.c, bpf_inode_storage.c): the same protos,
  // the owner (arg2_btf_id) a struct cgroup / struct inode or NULL; inode storage is offered to LSM programs only
  ['cgrp_storage_get', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], { argStruct: 'cgroup' }), { privileged: true, impl: 'helpers/storage', optIn: KIT }],
  ['cgrp_storage_delete', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL'], { argStruct: 'cgroup' }), { privileged: true, impl: 'helpers/storage', optIn: KIT }],
  ['inode_storage_get', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], { argStruct: 'inode' }), { progTypes: T.LSM, impl: 'helpers/storage', optIn: KIT }],
  ['inode_storage_delete', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL'], { argStruct: 'inode' }), { progTypes: T.LSM, impl: 'helpers/storage', optIn: KIT }],

  // kernel/bpf/ringbuf.c
  ['ringbuf_output', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING']), { impl: 'helpers/ringbuf' }],
  ['ringbuf_reserve', p('PTR_TO_RINGBUF_MEM_OR_NULL', ['CONST_MAP_PTR', 'CONST_ALLOC_SIZE_OR_ZERO', 'ANYTHING']), { impl: 'helpers/ringbuf' }],
  ['ringbuf_submit', p('VOID', ['PTR_TO_RINGBUF_MEM', 'ANYTHING'], { releasesArg: 0 }), { impl: 'helpers/ringbuf' }],
  ['ringbuf_discard', p('VOID', ['PTR_TO_RINGBUF_MEM', 'ANYTHING'], { releasesArg: 0 }), { impl: 'helpers/ringbuf' }],
  ['ringbuf_query', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING']), { impl: 'helpers/ringbuf' }],

  // kernel/trace/bpf_trace.c: printing and probing
  // trace_printk is variadic: the helper reads r3..r5, but the kernel's proto checks only the format and its size.
  ['trace_printk', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE'], GPL), { privileged: true, checkedArgs: 2, impl: 'helpers/trace' }],
  ['trace_vprintk', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], GPL), { privileged: true, impl: 'helpers/trace' }],
  // snprintf: arg 1 is ARG_PTR_TO_MEM_OR_NULL | MEM_WRITE (checked on 6.18: NULL with size 0 passes, and it is GPL-only)
  ['snprintf', p('INTEGER', ['PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'PTR_TO_CONST_STR', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], { ...GPL, writesMem: [0] }), { privileged: true, impl: 'helpers/trace' }],
  ['snprintf_btf', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], { writesMem: [0] }), { privileged: true }],
  // probe_read, probe_read_str: bpf_tracing_func_proto (CONFIG_ARCH_HAS_NON_OVERLAPPING_ADDRESS_SPACE, as on x86-64)
  ['probe_read', PROBE_READ, { progTypes: T.TRACING, privileged: true, impl: 'helpers/probe' }],
  ['probe_read_str', PROBE_READ, { progTypes: T.TRACING, privileged: true, retBoundedBySize: true, impl: 'helpers/probe' }],
  ['probe_read_user', PROBE_READ, { privileged: true, impl: 'helpers/probe' }],
  ['probe_read_kernel', PROBE_READ, { privileged: true, impl: 'helpers/probe' }],
  ['probe_read_user_str', PROBE_READ, { privileged: true, retBoundedBySize: true, impl: 'helpers/probe' }],
  ['probe_read_kernel_str', PROBE_READ, { privileged: true, retBoundedBySize: true, impl: 'helpers/probe' }],
  // probe_write_user: the oracle's lockdown (LOCKDOWN_BPF_WRITE_USER) keeps it from every program type
  ['probe_write_user', p('INTEGER', ['ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], GPL), { progTypes: T.NONE }],
  ['perf_event_output', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], GPL), { progTypes: T.PERF_EVENT_OUTPUT, impl: 'helpers/perf' }],
  ['perf_event_read', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING'], GPL), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['perf_event_read_value', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], GPL), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  ['perf_prog_read_value', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], GPL), { progTypes: T.PERF_EVENT, impl: 'helpers/tracing', optIn: KIT }],
  ['read_branch_records', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], { ...GPL, writesMem: [1] }), { progTypes: T.PERF_EVENT }],
  ['get_branch_snapshot', p('INTEGER', ['PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO'], GPL), { privileged: true }],
  ['current_task_under_cgroup', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING']), { privileged: true, impl: 'helpers/tracing', optIn: KIT }],
  // get_stackid: a stack_trace map (verifier/func-compat.ts); perf_event programs get bpf_get_stackid_proto_pe,
  // which is not GPL-only (kernel/bpf/stackmap.c). get_stack: R0 is refined to [-MAX_ERRNO, size]
  ['get_stackid', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING'], GPL), { progTypes: T.TRACING, variant: { types: T.PERF_EVENT, proto: p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING']) }, impl: 'helpers/tracing', optIn: KIT }],
  ['get_stack', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], GPL), { progTypes: T.TRACING, retBoundedBySize: true, impl: 'helpers/tracing', optIn: KIT }],
  ['get_task_stack', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], { argStruct: 'task_struct' }), { privileged: true, retBoundedBySize: true }],
  ['get_func_ip', p('INTEGER', ['PTR_TO_CTX'], GPL), { progTypes: T.FUNC_IP, impl: 'helpers/tracing', optIn: "enableProbeHelpers(runtime) from 'tsbpf/hooks', or a TestKit from 'tsbpf/testing'" }],
  ['get_attach_cookie', CTX, { progTypes: T.ATTACH_COOKIE, impl: 'helpers/tracing', optIn: KIT }],
  // get_func_arg/ret write an aligned u64 (ARG_PTR_TO_FIXED_SIZE_MEM | MEM_UNINIT | MEM_WRITE | MEM_ALIGNED, arg_size 8)
  ['get_func_arg', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_LONG']), { progTypes: T.TRAMPOLINE }],
  ['get_func_ret', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_LONG']), { progTypes: T.TRAMPOLINE }],
  ['get_func_arg_cnt', CTX, { progTypes: T.TRAMPOLINE }],
  // override_return: kprobes, only in kernels built with CONFIG_BPF_KPROBE_OVERRIDE — not the oracle 6.18
  ['override_return', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING'], GPL), { progTypes: T.NONE }],
  // find_vma: the callback gets (task, vma, ctx) and returns 0 or 1 (callback.ts)
  ['find_vma', p('INTEGER', ['PTR_TO_BTF_ID', 'ANYTHING', 'PTR_TO_FUNC', 'PTR_TO_STACK_OR_NULL', 'ANYTHING'], { argStruct: 'task_struct' }), { privileged: true }],
  // d_path: only where the kernel knows the path is safe to walk (bpf_d_path_allowed: iterators, sleepable LSM hooks, btf_allowlist_d_path)
  ['d_path', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { argStruct: 'path', writesMem: [1] }), { progTypes: T.TRACING_PROG, allowed: 'd_path' }],
  ['skb_output', p('INTEGER', ['PTR_TO_BTF_ID', 'CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { ...GPL, argStruct: 'sk_buff' }), { progTypes: T.TRACING_PROG }],
  ['xdp_output', p('INTEGER', ['PTR_TO_BTF_ID', 'CONST_MAP_PTR', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { ...GPL, argStruct: 'xdp_buff' }), { progTypes: T.TRACING_PROG }],
  ['sock_from_file', p('PTR_TO_BTF_ID_OR_NULL', ['PTR_TO_BTF_ID'], { argStruct: 'file', retStruct: 'socket' }), { progTypes: T.TRACING_PROG }],
  // the seq_file helpers of iterators: arg1 is the iterator's struct seq_file (ctx->meta->seq)
  ['seq_printf', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO'], { ...GPL, argStruct: 'seq_file' }), { progTypes: T.ITER, impl: 'helpers/seq', optIn: KIT }],
  ['seq_write', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { ...GPL, argStruct: 'seq_file' }), { progTypes: T.ITER, impl: 'helpers/seq', optIn: KIT }],
  ['seq_printf_btf', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING'], { ...GPL, argStruct: 'seq_file' }), { progTypes: T.ITER }],
  // kernel/bpf/bpf_lsm.c, security: LSM programs
  ['bprm_opts_set', p('INTEGER', ['PTR_TO_BTF_ID', 'ANYTHING'], { argStruct: 'linux_binprm' }), { progTypes: T.LSM }],
  // the IMA hashes: sleepable LSM hooks only (bpf_ima_inode_hash_allowed)
  ['ima_inode_hash', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], { mightSleep: true, argStruct: 'inode' }), { progTypes: T.LSM, allowed: 'lsm_sleepable_hook' }],
  ['ima_file_hash', p('INTEGER', ['PTR_TO_BTF_ID', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE'], { mightSleep: true, argStruct: 'file' }), { progTypes: T.LSM, allowed: 'lsm_sleepable_hook' }],
  // kernel/bpf/syscall.c: BPF_PROG_TYPE_SYSCALL programs (sleepable)
  ['sys_bpf', p('INTEGER', ['ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], { mightSleep: true }), { progTypes: T.SYSCALL }],
  ['btf_find_by_name_kind', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING', 'ANYTHING'], { mightSleep: true }), { progTypes: T.SYSCALL }],
  ['sys_close', p('INTEGER', ['ANYTHING'], { mightSleep: true }), { progTypes: T.SYSCALL }],
  ['kallsyms_lookup_name', p('INTEGER', ['PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'PTR_TO_LONG'], { writesMem: [0] }), { progTypes: T.SYSCALL }],

  // kernel/bpf/cgroup.c
  // get_local_storage: the cgroup storage map's value, never NULL; flags must be 0
  ['get_local_storage', p('PTR_TO_MAP_VALUE', ['CONST_MAP_PTR', 'ANYTHING']), { progTypes: T.CGROUP_LOCAL_STORAGE }],
  ['get_retval', INT0, { progTypes: T.RETVAL }],
  ['set_retval', p('INTEGER', ['ANYTHING']), { progTypes: T.RETVAL }],
  // sysctl_get_name's buffer is written by the helper (6.18: ARG_PTR_TO_MEM | MEM_WRITE), so it need not be initialised
  ['sysctl_get_name', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.CGROUP_SYSCTL }],
  ['sysctl_get_current_value', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { progTypes: T.CGROUP_SYSCTL }],
  ['sysctl_get_new_value', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { progTypes: T.CGROUP_SYSCTL }],
  ['sysctl_set_new_value', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE']), { progTypes: T.CGROUP_SYSCTL }],

  // net/core/filter.c: packets (tc, xdp, lwt, socket filters)
  ['skb_load_bytes', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { progTypes: T.SKB_LOAD_BYTES, impl: 'helpers/skb' }],
  ['skb_load_bytes_relative', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.SKB_LOAD_BYTES_RELATIVE }],
  ['skb_store_bytes', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT_SK_SKB, impl: 'helpers/skb' }],
  ['l3_csum_replace', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT, impl: 'helpers/skb' }],
  ['l4_csum_replace', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT, impl: 'helpers/skb' }],
  ['csum_diff', p('INTEGER', ['PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'ANYTHING']), { progTypes: T.TC_XDP_LWT, pktAccess: true, impl: 'helpers/skb' }],
  // csum_update folds a csum_diff result into skb->csum; csum_level reads or sets skb->csum_level
  ['csum_update', CTX_ANY, { progTypes: T.TC_LWT_XMIT }],
  ['csum_level', CTX_ANY, { progTypes: T.TC_LWT_XMIT }],
  ['redirect', p('INTEGER', ['ANYTHING', 'ANYTHING']), { progTypes: T.TC_XDP_LWT_XMIT, impl: 'helpers/redirect' }],
  ['redirect_map', p('INTEGER', ['CONST_MAP_PTR', 'ANYTHING', 'ANYTHING']), { progTypes: T.XDP, impl: 'helpers/redirect' }],
  ['redirect_neigh', p('INTEGER', ['ANYTHING', 'PTR_TO_MEM_OR_NULL', 'CONST_SIZE_OR_ZERO', 'ANYTHING']), { progTypes: T.TC }],
  ['redirect_peer', p('INTEGER', ['ANYTHING', 'ANYTHING']), { progTypes: T.TC }],
  ['clone_redirect', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT }],
  ['skb_pull_data', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING'], PKT), { progTypes: T.TC_SK_SKB_LWT }],
  ['skb_change_tail', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT_SK_SKB }],
  ['skb_change_head', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_LWT_XMIT_SK_SKB }],
  ['skb_adjust_room', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC_SK_SKB }],
  ['skb_change_proto', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC }],
  ['skb_change_type', CTX_ANY, { progTypes: T.TC }],
  ['skb_vlan_push', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.TC }],
  ['skb_vlan_pop', p('INTEGER', ['PTR_TO_CTX'], PKT), { progTypes: T.TC }],
  ['skb_get_tunnel_key', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.TC_LWT_XMIT }],
  ['skb_set_tunnel_key', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.TC_LWT_XMIT }],
  ['skb_get_tunnel_opt', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { progTypes: T.TC_LWT_XMIT }],
  ['skb_set_tunnel_opt', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE']), { progTypes: T.TC_LWT_XMIT }],
  ['skb_get_xfrm_state', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.TC }],
  ['skb_set_tstamp', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING']), { progTypes: T.TC }],
  ['skb_under_cgroup', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING']), { progTypes: T.TC_LWT }],
  ['skb_cgroup_id', CTX, { progTypes: T.TC_CGROUP_SKB }],
  ['skb_ancestor_cgroup_id', CTX_ANY, { progTypes: T.TC_CGROUP_SKB }],
  ['skb_cgroup_classid', CTX, { progTypes: T.TC }],
  ['skb_ecn_set_ce', CTX, { progTypes: T.TC_CGROUP_SKB }],
  // get_cgroup_classid: tc and lwt_xmit read the skb's (ctx); every other type gets the current task's (no argument)
  ['get_cgroup_classid', INT0, { privileged: true, variant: { types: T.TC_LWT_XMIT, proto: CTX } }],
  ['get_route_realm', CTX, { progTypes: T.TC_LWT }],
  ['get_hash_recalc', CTX, { progTypes: T.TC_LWT }],
  ['set_hash_invalid', CTX, { progTypes: T.TC_LWT_XMIT }],
  ['set_hash', CTX_ANY, { progTypes: T.TC }],
  ['get_socket_uid', CTX, { progTypes: T.SOCKET_UID }],
  ['lwt_push_encap', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], PKT), { progTypes: T.LWT_IN_XMIT }],
  // lwt_seg6_*: lwt_seg6local programs, in kernels built with CONFIG_IPV6_SEG6_BPF — not the oracle 6.18
  ['lwt_seg6_store_bytes', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], PKT), { progTypes: T.NONE }],
  ['lwt_seg6_adjust_srh', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.NONE }],
  ['lwt_seg6_action', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE'], PKT), { progTypes: T.NONE }],
  ['xdp_adjust_head', CTX_ANY_PKT, { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['xdp_adjust_meta', CTX_ANY_PKT, { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['xdp_adjust_tail', CTX_ANY_PKT, { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['xdp_get_buff_len', CTX, { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['xdp_load_bytes', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']), { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['xdp_store_bytes', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE']), { progTypes: T.XDP, impl: 'helpers/xdp' }],
  ['fib_lookup', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], { ...GPL, writesMem: [1] }), { progTypes: T.TC_XDP }],
  // check_mtu: mtu_len is ARG_PTR_TO_FIXED_SIZE_MEM | MEM_WRITE | MEM_ALIGNED with arg_size 4 (6.18 accepts it uninitialised)
  ['check_mtu', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'PTR_TO_U32', 'ANYTHING', 'ANYTHING'], GPL), { progTypes: T.TC_XDP }],

  // net/core/filter.c: socket hooks whose socket is the context
  // tracing_prog_func_proto and sk_reuseport_func_proto: bpf_get_socket_ptr_cookie_proto, a kernel socket pointer or NULL
  ['get_socket_cookie', CTX, { progTypes: T.union(T.SOCKET_COOKIE, T.PTR_COOKIE), variant: { types: T.PTR_COOKIE, proto: p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON_OR_NULL']) } }],
  ['get_netns_cookie', p('INTEGER', ['PTR_TO_CTX_OR_NULL']), { progTypes: T.NETNS_COOKIE }],
  // (the setsockopt hook's and a congestion control's are bpf_sk_setsockopt/getsockopt_proto: the socket, not the context)
  ['setsockopt', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE']),
    { progTypes: T.SOCKOPT, variant: { types: T.SK_SOCKOPT, proto: p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING', 'ANYTHING', 'PTR_TO_MEM', 'CONST_SIZE']) } }],
  ['getsockopt', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']),
    { progTypes: T.SOCKOPT, variant: { types: T.SK_SOCKOPT, proto: p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING', 'ANYTHING', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE']) } }],
  ['bind', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE']), { progTypes: T.BIND }],
  ['sock_ops_cb_flags_set', CTX_ANY, { progTypes: T.SOCK_OPS }],
  ['sock_map_update', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { progTypes: T.SOCK_OPS }],
  ['sock_hash_update', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { progTypes: T.SOCK_OPS }],
  // load_hdr_opt: arg 2 is ARG_PTR_TO_MEM | MEM_WRITE; store_hdr_opt reads its buffer and may move the packet
  ['load_hdr_opt', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_UNINIT_MEM', 'CONST_SIZE', 'ANYTHING']), { progTypes: T.SOCK_OPS }],
  ['store_hdr_opt', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE', 'ANYTHING'], PKT), { progTypes: T.SOCK_OPS }],
  ['reserve_hdr_opt', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING']), { progTypes: T.SOCK_OPS }],
  // sockmap programs (net/core/sock_map.c, sk_msg_func_proto / sk_skb_func_proto): verdicts that name a socket by its map slot
  ['sk_redirect_map', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'ANYTHING']), { progTypes: T.SK_SKB }],
  ['sk_redirect_hash', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { progTypes: T.SK_SKB }],
  ['msg_redirect_map', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'ANYTHING', 'ANYTHING']), { progTypes: T.SK_MSG }],
  ['msg_redirect_hash', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { progTypes: T.SK_MSG }],
  ['msg_apply_bytes', CTX_ANY, { progTypes: T.SK_MSG }],
  ['msg_cork_bytes', CTX_ANY, { progTypes: T.SK_MSG }],
  ['msg_pull_data', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.SK_MSG }],
  ['msg_push_data', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.SK_MSG }],
  ['msg_pop_data', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], PKT), { progTypes: T.SK_MSG }],
  ['sk_select_reuseport', p('INTEGER', ['PTR_TO_CTX', 'CONST_MAP_PTR', 'PTR_TO_MAP_KEY', 'ANYTHING']), { progTypes: T.SK_REUSEPORT }],
  // sockets as values: lookups, conversions, storage, syncookies
  ['sk_lookup_tcp', p('PTR_TO_SOCKET_OR_NULL', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'ANYTHING']), { progTypes: T.SOCK_LOOKUP, pktAccess: true }],
  ['sk_lookup_udp', p('PTR_TO_SOCKET_OR_NULL', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'ANYTHING']), { progTypes: T.SOCK_LOOKUP, pktAccess: true }],
  ['skc_lookup_tcp', p('PTR_TO_SOCK_COMMON_OR_NULL', ['PTR_TO_CTX', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO', 'ANYTHING', 'ANYTHING']), { progTypes: T.SOCK_LOOKUP, pktAccess: true }],
  ['sk_release', p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON'], { releasesArg: 0 }), { progTypes: T.SK_RELEASE }],
  ['sk_fullsock', p('PTR_TO_SOCKET_OR_NULL', ['PTR_TO_SOCK_COMMON']), { progTypes: T.TC_CGROUP_SKB }],
  ['tcp_sock', p('PTR_TO_TCP_SOCK_OR_NULL', ['PTR_TO_SOCK_COMMON']), { progTypes: T.TCP_SOCK }],
  ['get_listener_sock', p('PTR_TO_SOCKET_OR_NULL', ['PTR_TO_SOCK_COMMON']), { progTypes: T.TC_CGROUP_SKB }],
  // sk_assign: sk_lookup programs get bpf_sk_lookup_assign_proto (a full socket or NULL)
  ['sk_assign', p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING']), { progTypes: T.SK_ASSIGN, variant: { types: T.SK_LOOKUP_PROG, proto: p('INTEGER', ['PTR_TO_CTX', 'PTR_TO_SOCKET_OR_NULL', 'ANYTHING']) } }],
  ['sk_cgroup_id', p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON']), { progTypes: T.CGROUP_SKB }],
  ['sk_ancestor_cgroup_id', p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON', 'ANYTHING']), { progTypes: T.CGROUP_SKB }],
  // sk storage (net/core/bpf_sk_storage.c): cgroup sock programs pass their context (bpf_sk_storage_get_cg_sock_proto),
  // tracing programs a socket kernel object or NULL (bpf_sk_storage_*_tracing_proto, allowed where
  // bpf_sk_storage_tracing_allowed says: iterators, raw tracepoints, fentry/fexit of other functions)
  ['sk_storage_get', p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_SOCK_COMMON', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING']), { progTypes: T.SK_STORAGE_GET,
    variant: [{ types: T.CGROUP_SOCK, proto: p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_CTX', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING']) },
      { types: T.TRACING_PROG_ONLY, proto: p('PTR_TO_MAP_VALUE_OR_NULL', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL', 'PTR_TO_MAP_VALUE_OR_NULL', 'ANYTHING'], { argStruct: 'sock_common' }) }],
    allowed: 'sk_storage_tracing' }],
  ['sk_storage_delete', p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_SOCK_COMMON']), { progTypes: T.SK_STORAGE_DELETE,
    variant: { types: T.TRACING_PROG_ONLY, proto: p('INTEGER', ['CONST_MAP_PTR', 'PTR_TO_BTF_ID_OR_NULL'], { argStruct: 'sock_common' }) }, allowed: 'sk_storage_tracing' }],
  // bpf_skc_to_*: a socket pointer cast to the socket kind it is, or NULL (ret_btf_id: the kernel's btf_sock_ids);
  // in tracing programs the argument is a kernel-object pointer (tp_btf/fentry arguments); in the socket
  // hooks it is a PTR_TO_SOCK_COMMON, which tsbpf does not model (helper-args.ts refuses that as unsupported)
  ...([['skc_to_tcp6_sock', 'tcp6_sock'], ['skc_to_tcp_sock', 'tcp_sock'], ['skc_to_tcp_timewait_sock', 'tcp_timewait_sock'],
    ['skc_to_tcp_request_sock', 'tcp_request_sock'], ['skc_to_udp6_sock', 'udp6_sock'], ['skc_to_unix_sock', 'unix_sock']] as const)
    .map(([n, s]): [HelperName, HelperProto, Extra] => [n, p('PTR_TO_BTF_ID_OR_NULL', ['PTR_TO_BTF_ID_SOCK_COMMON'], { retStruct: s }), { progTypes: T.SKC_TO, privileged: true }]),
  // skc_to_mptcp_sock takes ARG_PTR_TO_SOCK_COMMON (not a BTF pointer): a tracing program's socket argument is refused
  ['skc_to_mptcp_sock', p('PTR_TO_BTF_ID_OR_NULL', ['PTR_TO_SOCK_COMMON'], { retStruct: 'mptcp_sock' }), { progTypes: T.SKC_TO, privileged: true }],
  ['tcp_check_syncookie', p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON', 'PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM', 'CONST_SIZE'], GPL), { progTypes: T.TC_XDP, pktAccess: true }],
  ['tcp_gen_syncookie', p('INTEGER', ['PTR_TO_BTF_ID_SOCK_COMMON', 'PTR_TO_MEM', 'CONST_SIZE', 'PTR_TO_MEM', 'CONST_SIZE'], GPL), { progTypes: T.TC_XDP, pktAccess: true }],
  // tcp_raw_*: the headers are ARG_PTR_TO_FIXED_SIZE_MEM of sizeof(struct iphdr / ipv6hdr / tcphdr): 20, 40, 20 bytes
  ['tcp_raw_gen_syncookie_ipv4', p('INTEGER', ['PTR_TO_FIXED_SIZE_MEM', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { ...GPL, argSize: [20], writesMem: [1] }), { progTypes: T.TC_XDP, pktAccess: true }],
  ['tcp_raw_gen_syncookie_ipv6', p('INTEGER', ['PTR_TO_FIXED_SIZE_MEM', 'PTR_TO_MEM', 'CONST_SIZE_OR_ZERO'], { ...GPL, argSize: [40], writesMem: [1] }), { progTypes: T.TC_XDP, pktAccess: true }],
  ['tcp_raw_check_syncookie_ipv4', p('INTEGER', ['PTR_TO_FIXED_SIZE_MEM', 'PTR_TO_FIXED_SIZE_MEM'], { ...GPL, argSize: [20, 20] }), { progTypes: T.TC_XDP, pktAccess: true }],
  ['tcp_raw_check_syncookie_ipv6', p('INTEGER', ['PTR_TO_FIXED_SIZE_MEM', 'PTR_TO_FIXED_SIZE_MEM'], { ...GPL, argSize: [40, 20] }), { progTypes: T.TC_XDP, pktAccess: true }],
  ['tcp_send_ack', p('INTEGER', ['PTR_TO_BTF_ID', 'ANYTHING']), { progTypes: T.STRUCT_OPS, unmodelled: BTF_OBJ }],

  // drivers/media/rc/bpf-lirc.c: infrared decoders (lirc_mode2, a program type tsbpf does not load)
  ['rc_repeat', p('INTEGER', ['PTR_TO_CTX'], GPL), { progTypes: T.LIRC }],
  ['rc_keydown', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING', 'ANYTHING'], GPL), { progTypes: T.LIRC }],
  ['rc_pointer_rel', p('INTEGER', ['PTR_TO_CTX', 'ANYTHING', 'ANYTHING'], GPL), { progTypes: T.LIRC }],
];

/**
 * Every helper Linux defines, by id. Built on first use: the registry's helpers
 * (src/helpers/def.ts) take their names from helper-ids.ts and read their
 * prototypes here only when an engine or the verifier asks, so a program that
 * calls no helper runs without the catalog being built (issue 17).
 */
export const HELPERS: LazyMap<number, HelperInfo> = new LazyMap(() => new Map(entries().map(([name, proto, extra = {}]) => {
  const info: HelperInfo = {
    id: BPF_FUNC[name], name, proto, progTypes: T.ANY, privileged: false, pktAccess: false, retBoundedBySize: false, ...extra,
  };
  return [info.id, info];
})));

/**
 * The program type whose get_func_proto `type` uses: raw_tracepoint_writable_verifier_ops has
 * raw_tracepoint's, raw_tp_prog_func_proto (kernel/trace/bpf_trace.c).
 */
function funcProtoType(type: ProgTypeName): ProgTypeName {
  return type === 'raw_tracepoint_writable' ? 'raw_tracepoint' : type;
}

/** The prototype program type `type` gets for helper `id` (most helpers have one for every type). */
export function helperProto(info: HelperInfo, type?: ProgTypeName, attachType?: string): HelperProto {
  if (type === undefined || !info.variant) return info.proto;
  type = funcProtoType(type);
  const vs: readonly HelperVariant[] = Array.isArray(info.variant) ? info.variant : [info.variant as HelperVariant];
  return vs.find((v) => v.types(type, attachType))?.proto ?? info.proto;
}

/** Does `type`'s get_func_proto return a proto for helper `id` (root's view; `privileged` is separate)? */
export function helperAvailable(type: ProgTypeName, id: number, attachType?: string): boolean {
  return HELPERS.get(id)?.progTypes(funcProtoType(type), attachType) ?? false;
}
