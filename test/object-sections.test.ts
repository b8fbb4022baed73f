import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchSection, SECTION_DEFS } from '../src/object/sections.js';
import { ProgType } from '../src/object/spec.js';

const m = (name: string) => {
  const r = matchSection(name);
  return r && [r.def.type, r.def.attachType, r.attachTo, r.def.sleepable ?? false];
};

test('section names map to program types as libbpf maps them', () => {
  assert.deepEqual(m('xdp'), ['xdp', 'xdp', undefined, false]);
  assert.deepEqual(m('xdp.frags'), ['xdp', 'xdp', undefined, false]);
  assert.equal(matchSection('xdp.frags')!.def.xdpFrags, true);
  assert.deepEqual(m('xdp/devmap'), ['xdp', 'xdp_devmap', undefined, false]);
  assert.deepEqual(m('tc'), ['sched_cls', undefined, undefined, false]);
  assert.deepEqual(m('classifier'), ['sched_cls', undefined, undefined, false]);
  assert.deepEqual(m('tc/ingress'), ['sched_cls', 'tcx_ingress', undefined, false]);
  assert.deepEqual(m('tcx/egress'), ['sched_cls', 'tcx_egress', undefined, false]);
  assert.deepEqual(m('action'), ['sched_act', undefined, undefined, false]);
  assert.deepEqual(m('socket'), ['socket_filter', undefined, undefined, false]);
  assert.deepEqual(m('kprobe/do_sys_open'), ['kprobe', undefined, 'do_sys_open', false]);
  assert.deepEqual(m('kretprobe/do_sys_open'), ['kprobe', undefined, 'do_sys_open', false]);
  assert.deepEqual(m('ksyscall/openat'), ['kprobe', undefined, 'openat', false]);
  assert.deepEqual(m('uprobe//bin/bash:readline'), ['kprobe', undefined, '/bin/bash:readline', false]);
  assert.deepEqual(m('uprobe.s/libc.so.6:malloc'), ['kprobe', undefined, 'libc.so.6:malloc', true]);
  assert.deepEqual(m('usdt/libc:probe'), ['kprobe', undefined, 'libc:probe', false]);
  assert.deepEqual(m('tracepoint/syscalls/sys_enter_openat'), ['tracepoint', undefined, 'syscalls/sys_enter_openat', false]);
  assert.deepEqual(m('tp/sched/sched_switch'), ['tracepoint', undefined, 'sched/sched_switch', false]);
  assert.deepEqual(m('raw_tp/sched_switch'), ['raw_tracepoint', undefined, 'sched_switch', false]);
  assert.deepEqual(m('raw_tracepoint.w/foo'), ['raw_tracepoint_writable', undefined, 'foo', false]);
  assert.deepEqual(m('tp_btf/sched_switch'), ['tracing', 'trace_raw_tp', 'sched_switch', false]);
  assert.deepEqual(m('fentry/tcp_connect'), ['tracing', 'trace_fentry', 'tcp_connect', false]);
  assert.deepEqual(m('fexit/tcp_connect'), ['tracing', 'trace_fexit', 'tcp_connect', false]);
  assert.deepEqual(m('fmod_ret/security_x'), ['tracing', 'modify_return', 'security_x', false]);
  assert.deepEqual(m('fentry.s/x'), ['tracing', 'trace_fentry', 'x', true]);
  assert.deepEqual(m('lsm/file_open'), ['lsm', 'lsm_mac', 'file_open', false]);
  assert.deepEqual(m('lsm.s/file_open'), ['lsm', 'lsm_mac', 'file_open', true]);
  assert.deepEqual(m('iter/task'), ['tracing', 'trace_iter', 'task', false]);
  assert.deepEqual(m('syscall'), ['syscall', undefined, undefined, true]);
  assert.deepEqual(m('struct_ops/dctcp_init'), ['struct_ops', undefined, 'dctcp_init', false]);
  assert.deepEqual(m('cgroup_skb/ingress'), ['cgroup_skb', 'cgroup_inet_ingress', undefined, false]);
  assert.deepEqual(m('cgroup/skb'), ['cgroup_skb', undefined, undefined, false]);
  assert.deepEqual(m('cgroup/sock'), ['cgroup_sock', 'cgroup_inet_sock_create', undefined, false]);
  assert.deepEqual(m('cgroup/connect4'), ['cgroup_sock_addr', 'cgroup_inet4_connect', undefined, false]);
  assert.deepEqual(m('cgroup/dev'), ['cgroup_device', 'cgroup_device', undefined, false]);
  assert.deepEqual(m('sk_skb/stream_verdict'), ['sk_skb', 'sk_skb_stream_verdict', undefined, false]);
  assert.deepEqual(m('sk_skb'), ['sk_skb', undefined, undefined, false]);
  assert.deepEqual(m('sk_msg'), ['sk_msg', 'sk_msg_verdict', undefined, false]);
  assert.deepEqual(m('sockops'), ['sock_ops', 'cgroup_sock_ops', undefined, false]);
  assert.deepEqual(m('flow_dissector'), ['flow_dissector', 'flow_dissector', undefined, false]);
  assert.deepEqual(m('perf_event'), ['perf_event', undefined, undefined, false]);
  assert.deepEqual(m('netfilter'), ['netfilter', 'netfilter', undefined, false]);
  assert.deepEqual(m('sk_lookup'), ['sk_lookup', 'sk_lookup', undefined, false]);
  assert.deepEqual(m('?xdp'), ['xdp', 'xdp', undefined, false], "libbpf's no-autoload prefix");
});

test('names libbpf does not know match nothing', () => {
  for (const name of ['', 'xdpx', 'xdp/', 'kprobes/x', 'kprobe.x', 'tcx', 'tc/other', 'socket/x', 'fentry_x', '.text', 'license', 'cgroup/unknown'])
    assert.equal(matchSection(name), undefined, name);
});

test('every table entry names a real program type, and reachable entries come before their prefixes', () => {
  for (const d of SECTION_DEFS) assert.ok(d.type in ProgType, d.pattern);
  // each exact pattern resolves to its own row (no earlier row shadows it)
  for (const d of SECTION_DEFS) {
    const name = d.pattern.replace(/\+$/, '');
    assert.equal(matchSection(name)!.def, d, d.pattern);
  }
});
