/**
 * The BTF of the types tsbpf itself provides to programs: program contexts
 * (struct xdp_md, struct __sk_buff, struct pt_regs, ...) and tracepoint
 * records, laid out as the kernel lays them out (x86-64, from the kernel's
 * own BTF; see test/fixtures-btf/gen-context.ts). This is the target for
 * CO-RE relocations: a program built against vmlinux.h or its own
 * `___flavor` definitions gets these offsets.
 */
import { Btf } from './btf.js';
import { CONTEXT_BTF_BASE64 } from './context-data.js';

/** The root types copied (with everything they contain). */
export const CONTEXT_TYPES: readonly string[] = [
  'struct xdp_md',
  'struct __sk_buff',
  'struct pt_regs',
  'struct bpf_sock',
  'struct sk_msg_md',
  'struct bpf_sock_addr',
  'struct bpf_sock_ops',
  'struct sk_reuseport_md',
  'struct bpf_sk_lookup',
  'struct bpf_sysctl',
  'struct bpf_sockopt',
  'struct bpf_cgroup_dev_ctx',
  'struct bpf_perf_event_data',
  'struct bpf_raw_tracepoint_args',
  'struct trace_entry',
  'struct trace_event_raw_sys_enter',
  'struct trace_event_raw_sys_exit',
  'struct trace_event_raw_sched_switch',
  'struct trace_event_raw_sched_process_exec',
  'struct trace_event_raw_sched_process_fork',
  'struct trace_event_raw_sched_process_exit',
];

let cached: Btf | undefined;


/**
 * tsbpf's context and tracepoint types, with the kernel types the verifier
 * needs (verifier/kernel-btf.ts KERNEL_BTF_TYPES), as a Btf (parsed once).
 */
export function contextBtf(): Btf {
  if (!cached) {
    cached = Btf.parse(base64Bytes(CONTEXT_BTF_BASE64), 'le');
  }
  return cached;
}

/** Bytes from base64 (BTF shipped as a data module): atob exists in browsers and Node >= 16; no Buffer below the runtime layer. */
export function base64Bytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
