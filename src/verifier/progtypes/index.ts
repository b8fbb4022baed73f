/**
 * Program-type rules: the context each type receives, which context bytes
 * it may read or write and what a read yields, the range its return value
 * must lie in, and what else differs per type (the kernel's
 * bpf_verifier_ops.is_valid_access, check_return_code,
 * may_access_direct_pkt_data, bpf_prog_load's unprivileged list).
 *
 * The runtime builds contexts with the same layouts.
 */
import type { ProgTypeName } from '../../object/spec.js';
import type { TracingTarget } from './tracing.js';
import { XDP } from './xdp.js';
import { SOCKET_FILTER, SCHED_CLS, SCHED_ACT, CGROUP_SKB } from './skb.js';
import { KPROBE, TRACEPOINT, RAW_TRACEPOINT, RAW_TRACEPOINT_WRITABLE, PERF_EVENT } from './tracing.js';
import { SYSCALL } from './syscall.js';
import { CGROUP_SOCK_ADDR } from './sock-addr.js';
import { CGROUP_SOCK } from './sock.js';
import { CGROUP_SYSCTL } from './sysctl.js';
import { LWT_IN, LWT_OUT, LWT_XMIT } from './lwt.js';
import { CGROUP_DEVICE } from './device.js';
import { SK_MSG } from './sk-msg.js';
import { SK_SKB } from './sk-skb.js';
import { SOCK_OPS } from './sock-ops.js';
import { CGROUP_SOCKOPT } from './sockopt.js';
import { FLOW_DISSECTOR } from './flow-dissector.js';
import { SK_LOOKUP } from './sk-lookup.js';
import { SK_REUSEPORT } from './sk-reuseport.js';

/**
 * What a context read yields: a scalar or one of the packet pointers; or,
 * for tracing programs, a pointer to a kernel struct (Linux's PTR_TO_BTF_ID).
 */
export type CtxField = 'scalar' | 'pkt' | 'pkt_end' | 'pkt_meta' | 'btf_ptr'
  /** a socket or NULL (PTR_TO_SOCK_COMMON_OR_NULL: __sk_buff.sk) */
  | 'sock'
  /** a socket (PTR_TO_SOCKET: bpf_sock_addr.sk, sk_msg_md.sk, bpf_sockopt.sk) */
  | 'sock_ptr'
  /** a full socket or NULL (PTR_TO_SOCKET_OR_NULL: bpf_sock_ops.sk, bpf_sk_lookup.sk) */
  | 'sock_or_null'
  /** the flow dissector's struct bpf_flow_keys (PTR_TO_FLOW_KEYS) */
  | 'flow_keys'
  /** an iterator's key or value buffer, or NULL (PTR_TO_BUF | PTR_MAYBE_NULL, with MEM_RDONLY for rdonly_buf: buf.ts) */
  | 'buf' | 'rdonly_buf'
  /** a writable raw tracepoint's buffer (PTR_TO_TP_BUFFER: tp-buffer.ts) */
  | 'tp_buffer';

export interface CtxAccessQuery {
  off: number;
  size: number;
  write: boolean;
  /** a sign-extending load (ldsx) */
  signExtend: boolean;
  /** the loader has CAP_BPF (some fields are for privileged programs only) */
  privileged?: boolean;
  /** the expected attach type as libbpf names it (`xdp_devmap`, ...): some fields belong to one attach type */
  attachType?: string;
}

export interface ProgTypeRules {
  name: ProgTypeName;
  /** bytes of the context struct (the runtime allocates this many) */
  ctxSize: number;
  /** null when the access is refused */
  ctxAccess(q: CtxAccessQuery): CtxField | null;
  /** the inclusive range the program's return value must lie in, when the kernel enforces one */
  retRange?: [number, number];
  /** retRange holds for the low 32 bits as a signed number (check_return_code's return_32bit: lsm hooks) */
  retRange32?: boolean;
  /** R0 is not looked at on exit (an lsm program on a void hook: check_return_code returns first) */
  retUnchecked?: boolean;
  /** reading the return-value slot of the context gives a 32-bit number in this range (btf_ctx_access's is_retval: lsm) */
  retvalRead?: [number, number];
  /** BPF_LD_ABS / BPF_LD_IND are allowed (socket filters and tc) */
  ldAbs: boolean;
  /** direct packet access through ctx->data may write (may_access_direct_pkt_data) */
  pktWrite: boolean;
  /** an unprivileged user may load this type (socket filters and cgroup skb) */
  unprivileged: boolean;
  /** tracing programs: the attach target whose arguments are the context (btf_ctx_access) */
  tracing?: TracingTarget;
  /** no helper at all: the verifier ops have no get_func_proto (a bpf_dummy_ops struct_ops program) */
  noHelpers?: boolean;
  /** the rules for one expected attach type, where they differ by hook (return ranges of the cgroup hooks) */
  forAttach?(attachType: string | undefined): ProgTypeRules;
}

/** The kernel's bpf_ctx_narrow_access_ok: a narrower power-of-two read of a field. */
export function narrowOk(size: number, fieldSize: number): boolean {
  return size <= fieldSize && (size & (size - 1)) === 0;
}

const RULES = new Map<ProgTypeName, ProgTypeRules>(
  [XDP, SOCKET_FILTER, SCHED_CLS, SCHED_ACT, CGROUP_SKB, KPROBE, TRACEPOINT, RAW_TRACEPOINT, RAW_TRACEPOINT_WRITABLE, PERF_EVENT, SYSCALL, CGROUP_SOCK_ADDR, CGROUP_SOCK, CGROUP_SYSCTL, LWT_IN, LWT_OUT, LWT_XMIT, CGROUP_DEVICE, SK_MSG, SK_SKB, SOCK_OPS, CGROUP_SOCKOPT, FLOW_DISSECTOR, SK_LOOKUP, SK_REUSEPORT].map((r) => [r.name, r]),
);

export function progTypeRules(name: ProgTypeName, attachType?: string): ProgTypeRules | undefined {
  const r = RULES.get(name);
  return r?.forAttach ? r.forAttach(attachType) : r;
}

/** Program types the verifier judges ('tracing': fentry/fexit/fmod_ret/tp_btf, and 'lsm': their rules built per attach target). */
export const SUPPORTED_PROG_TYPES: readonly ProgTypeName[] = [...RULES.keys(), 'tracing', 'lsm'];
