/**
 * ELF section names to program types and expected attach types, with the
 * same matching rules libbpf applies to `SEC("...")` names:
 *
 * - an exact name (`xdp`, `socket`, `tc`) matches only itself;
 * - a name ending in `+` (`kprobe+`) matches the bare word or the word
 *   followed by `/` and an attach target (`kprobe/do_sys_open`);
 * - a name ending in `/` matches any name with that prefix.
 *
 * The first matching entry wins, so more specific names come first
 * (`xdp.frags/devmap` before `xdp.frags` before `xdp`). Attach types use
 * libbpf's lower-case names (`libbpf_bpf_attach_type_str`), which are also
 * the kernel's `enum bpf_attach_type` names without the `BPF_` prefix.
 */
import type { ProgTypeName } from './spec.js';

export interface SectionDef {
  /** the pattern as written in libbpf's table (`kprobe+`, `cgroup/skb`, ...) */
  pattern: string;
  type: ProgTypeName;
  attachType?: string;
  /** `.s` variants: the program may sleep (BPF_F_SLEEPABLE) */
  sleepable?: boolean;
  /** `xdp.frags`: the program handles multi-buffer packets (BPF_F_XDP_HAS_FRAGS) */
  xdpFrags?: boolean;
  /** the target is a BTF type/function name (fentry, lsm, iter, tp_btf, ...) */
  attachBtf?: boolean;
}

type Row = [pattern: string, type: ProgTypeName, attachType?: string, traits?: string];

// Order matters: see the module comment. Traits: s = sleepable, f = xdp frags, b = BTF attach target.
const ROWS: Row[] = [
  ['socket', 'socket_filter'],
  ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'],
  ['kprobe+', 'kprobe'],
  ['uprobe+', 'kprobe'],
  ['uprobe.s+', 'kprobe', undefined, 's'],
  ['kretprobe+', 'kprobe'],
  ['uretprobe+', 'kprobe'],
  ['uretprobe.s+', 'kprobe', undefined, 's'],
  ['kprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['kprobe.session+', 'kprobe', 'trace_kprobe_session'],
  ['uprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uretprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uprobe.session+', 'kprobe', 'trace_uprobe_session'],
  ['uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 's'],
  ['uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 's'],
  ['uprobe.session.s+', 'kprobe', 'trace_uprobe_session', 's'],
  ['ksyscall+', 'kprobe'],
  ['kretsyscall+', 'kprobe'],
  ['usdt+', 'kprobe'],
  ['usdt.s+', 'kprobe', undefined, 's'],
  ['tc/ingress', 'sched_cls', 'tcx_ingress'],
  ['tc/egress', 'sched_cls', 'tcx_egress'],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress'],
  ['tcx/egress', 'sched_cls', 'tcx_egress'],
  ['tc', 'sched_cls'],
  ['classifier', 'sched_cls'],
  ['action', 'sched_act'],
  ['netkit/primary', 'sched_cls', 'netkit_primary'],
  ['netkit/peer', 'sched_cls', 'netkit_peer'],
  ['tracepoint+', 'tracepoint'],
  ['tp+', 'tracepoint'],
  ['tracepoint.s+', 'tracepoint', undefined, 's'],
  ['tp.s+', 'tracepoint', undefined, 's'],
  ['raw_tracepoint+', 'raw_tracepoint'],
  ['raw_tp+', 'raw_tracepoint'],
  ['raw_tracepoint.s+', 'raw_tracepoint', undefined, 's'],
  ['raw_tp.s+', 'raw_tracepoint', undefined, 's'],
  ['raw_tracepoint.w+', 'raw_tracepoint_writable'],
  ['raw_tp.w+', 'raw_tracepoint_writable'],
  ['tp_btf+', 'tracing', 'trace_raw_tp', 'b'],
  ['tp_btf.s+', 'tracing', 'trace_raw_tp', 'bs'],
  ['fentry+', 'tracing', 'trace_fentry', 'b'],
  ['fmod_ret+', 'tracing', 'modify_return', 'b'],
  ['fexit+', 'tracing', 'trace_fexit', 'b'],
  ['fentry.s+', 'tracing', 'trace_fentry', 'bs'],
  ['fmod_ret.s+', 'tracing', 'modify_return', 'bs'],
  ['fexit.s+', 'tracing', 'trace_fexit', 'bs'],
  ['freplace+', 'ext', undefined, 'b'],
  ['lsm+', 'lsm', 'lsm_mac', 'b'],
  ['lsm.s+', 'lsm', 'lsm_mac', 'bs'],
  ['lsm_cgroup+', 'lsm', 'lsm_cgroup', 'b'],
  ['iter+', 'tracing', 'trace_iter', 'b'],
  ['iter.s+', 'tracing', 'trace_iter', 'bs'],
  ['syscall', 'syscall', undefined, 's'],
  ['xdp.frags/devmap', 'xdp', 'xdp_devmap', 'f'],
  ['xdp/devmap', 'xdp', 'xdp_devmap'],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', 'f'],
  ['xdp/cpumap', 'xdp', 'xdp_cpumap'],
  ['xdp.frags', 'xdp', 'xdp', 'f'],
  ['xdp', 'xdp', 'xdp'],
  ['perf_event', 'perf_event'],
  ['lwt_in', 'lwt_in'],
  ['lwt_out', 'lwt_out'],
  ['lwt_xmit', 'lwt_xmit'],
  ['lwt_seg6local', 'lwt_seg6local'],
  ['sockops', 'sock_ops', 'cgroup_sock_ops'],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'],
  ['sk_skb/verdict', 'sk_skb', 'sk_skb_verdict'],
  ['sk_skb', 'sk_skb'],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict'],
  ['lirc_mode2', 'lirc_mode2', 'lirc_mode2'],
  ['flow_dissector', 'flow_dissector', 'flow_dissector'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'],
  ['cgroup/skb', 'cgroup_skb'],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'],
  ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'],
  ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'],
  ['cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'],
  ['cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'],
  ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'],
  ['cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect'],
  ['cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'],
  ['cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg'],
  ['cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'],
  ['cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'],
  ['cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg'],
  ['cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'],
  ['cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'],
  ['cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername'],
  ['cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'],
  ['cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'],
  ['cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname'],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device'],
  ['struct_ops+', 'struct_ops'],
  ['struct_ops.s+', 'struct_ops', undefined, 's'],
  ['sk_lookup', 'sk_lookup', 'sk_lookup'],
  ['netfilter', 'netfilter', 'netfilter'],
];

export const SECTION_DEFS: readonly SectionDef[] = ROWS.map(([pattern, type, attachType, traits = '']) => {
  const d: SectionDef = { pattern, type };
  if (attachType) d.attachType = attachType;
  if (traits.includes('s')) d.sleepable = true;
  if (traits.includes('f')) d.xdpFrags = true;
  if (traits.includes('b')) d.attachBtf = true;
  return d;
});

export interface SectionMatch {
  def: SectionDef;
  /** the attach target after the `/` (`do_sys_open` in `kprobe/do_sys_open`), if any */
  attachTo?: string;
}

function matches(pattern: string, name: string): { ok: boolean; rest?: string } {
  const last = pattern[pattern.length - 1];
  if (last === '/') return name.startsWith(pattern) ? { ok: true, rest: name.slice(pattern.length) } : { ok: false };
  if (last === '+') {
    const word = pattern.slice(0, -1);
    if (name === word) return { ok: true };
    if (name.startsWith(word + '/')) return { ok: true, rest: name.slice(word.length + 1) };
    return { ok: false };
  }
  return { ok: name === pattern };
}

/**
 * The program type a section name gives, or undefined when libbpf would not
 * know it either. A leading `?` (libbpf: do not load automatically) does not
 * change the type.
 */
export function matchSection(section: string): SectionMatch | undefined {
  const name = section.startsWith('?') ? section.slice(1) : section;
  for (const def of SECTION_DEFS) {
    const m = matches(def.pattern, name);
    if (!m.ok) continue;
    const out: SectionMatch = { def };
    if (m.rest) out.attachTo = m.rest;
    return out;
  }
  return undefined;
}
