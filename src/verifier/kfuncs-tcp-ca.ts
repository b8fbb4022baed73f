/**
 * The kfuncs Linux registers for struct_ops programs (register_btf_kfunc_id_set with
 * BPF_PROG_TYPE_STRUCT_OPS, the kernel's struct_ops kfunc hook): the building blocks a BPF
 * congestion control (a `struct tcp_congestion_ops` implemented in BPF) borrows from the
 * kernel's own ones.
 * - net/ipv4/bpf_tcp_ca.c, bpf_tcp_ca_check_kfunc_ids: tcp_reno_ssthresh, tcp_reno_cong_avoid,
 *   tcp_reno_undo_cwnd, tcp_slow_start, tcp_cong_avoid_ai;
 * - net/ipv4/tcp_cubic.c, tcp_cubic_check_kfunc_ids: cubictcp_init, _recalc_ssthresh,
 *   _cong_avoid, _state, _cwnd_event, _acked;
 * - net/ipv4/tcp_bbr.c and tcp_dctcp.c (where built: their module registers them), the bbr_*
 *   and dctcp_* ones.
 * None has KF_* flags, so their `struct sock *` (`struct tcp_sock *`) arguments are plain
 * PTR_TO_BTF_ID arguments (check_kfunc_args' KF_ARG_PTR_TO_BTF_ID: any pointer to a struct
 * that begins with the one the prototype names, trusted or not; a `const struct ack_sample *`
 * or `rate_sample *`, structs of scalars, may also be memory of their size). The sets carry no
 * filter: every struct_ops program may call them (bpf_dummy_ops' too).
 *
 * Prototypes as Linux 6.12 to 6.18 declare them (the running kernel's BTF agrees). tsbpf
 * judges them and does not run them: it has no TCP stack behind a congestion control, and
 * struct_ops programs are refused at load anyway (runtime 'none').
 */
import type { KfuncArg, KfuncHook, KfuncSig } from './kfuncs.js';

/** The hook the sets are registered for: BPF_PROG_TYPE_STRUCT_OPS only. */
export const TCP_CA_HOOKS: readonly KfuncHook[] = ['struct_ops'];

const SK: KfuncArg = { struct: 'sock' };
const TP: KfuncArg = { struct: 'tcp_sock' };
const S = 'scalar';
/** f(struct sock *sk, ...scalars), returning nothing or a u32 */
const skVoid = (...more: KfuncArg[]): KfuncSig => ({ args: [SK, ...more], ret: 'void' });
const skU32 = (...more: KfuncArg[]): KfuncSig => ({ args: [SK, ...more], ret: 'scalar' });

/** Each struct_ops kfunc's prototype, by name. */
export const TCP_CA_KFUNCS: ReadonlyArray<[string, KfuncSig]> = [
  // bpf_tcp_ca_check_kfunc_ids
  ['tcp_reno_ssthresh', skU32()],
  ['tcp_reno_cong_avoid', skVoid(S, S)],
  ['tcp_reno_undo_cwnd', skU32()],
  ['tcp_slow_start', { args: [TP, S], ret: 'scalar' }],
  ['tcp_cong_avoid_ai', { args: [TP, S, S], ret: 'void' }],
  // tcp_cubic_check_kfunc_ids
  ['cubictcp_init', skVoid()],
  ['cubictcp_recalc_ssthresh', skU32()],
  ['cubictcp_cong_avoid', skVoid(S, S)],
  ['cubictcp_state', skVoid(S)],
  ['cubictcp_cwnd_event', skVoid(S)],
  ['cubictcp_acked', skVoid({ struct: 'ack_sample' })],
  // tcp_bbr_check_kfunc_ids (bbr_main is tcp_congestion_ops.cong_control: sk, ack, flag, rs)
  ['bbr_init', skVoid()],
  ['bbr_main', skVoid(S, S, { struct: 'rate_sample' })],
  ['bbr_sndbuf_expand', skU32()],
  ['bbr_undo_cwnd', skU32()],
  ['bbr_cwnd_event', skVoid(S)],
  ['bbr_ssthresh', skU32()],
  ['bbr_min_tso_segs', skU32()],
  ['bbr_set_state', skVoid(S)],
  // tcp_dctcp_check_kfunc_ids
  ['dctcp_init', skVoid()],
  ['dctcp_update_alpha', skVoid(S)],
  ['dctcp_cwnd_event', skVoid(S)],
  ['dctcp_ssthresh', skU32()],
  ['dctcp_cwnd_undo', skU32()],
  ['dctcp_state', skVoid(S)],
];
