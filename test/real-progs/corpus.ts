/**
 * The real-program corpus (issue 14): C programs written the way tracing
 * tools are (flavoured CO-RE types, existence guards, kernel-object
 * pointers), built with clang-19 (scripts/build-verifier-c.sh with
 * SRC_DIR=test/real-progs), one program per object, each with the running
 * kernel's verdict in verdicts.json (record.sh).
 *
 * tsbpf judges them against kernel.btf: the types they touch, cut out of the
 * recording kernel's /sys/kernel/btf/vmlinux (gen-kernel-btf.ts), so the
 * test needs neither root nor that kernel.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '../../src/object/btf/btf.js';
import { ROOT } from '../paths.js';

export const DIR = join(ROOT, 'test/real-progs');

/** The kernel types the programs relocate against or walk, with what they contain. */
export const KERNEL_ROOTS: readonly string[] = [
  'struct task_struct',
  'struct mm_struct',
  // what the kfunc corpus (test/verifier-corpus/kfunc-refs.txt) walks to: task->cgroups->dfl_cgrp
  'struct css_set',
  'struct cgroup',
  // what open-coded iterators return (test/verifier-corpus/iters-kobj.txt)
  'struct vm_area_struct',
  'struct cgroup_subsys_state',
  'struct pt_regs',
  'struct cfs_rq',
  'enum bpf_func_id',
  // tp_btf targets: the raw tracepoints' handler prototypes
  'typedef btf_trace_sched_switch',
  'typedef btf_trace_sched_process_fork',
  // cgroup local storage: the tracepoint that hands out a cgroup
  'typedef btf_trace_cgroup_mkdir',
  // lsm targets and what their programs read
  'bpf_lsm_file_open',
  'bpf_lsm_task_free',
  'bpf_lsm_socket_bind',
  'struct file',
  // sockets of tp_btf programs (tcppktlat-style): the tracepoints, the socket structs the helpers
  // check and cast to (btf_sock_ids)
  'typedef btf_trace_tcp_probe',
  'typedef btf_trace_tcp_destroy_sock',
  'struct sock_common',
  'struct sock',
  'struct tcp_sock',
  'struct sk_buff',
  // iterators: the functions whose prototypes type their contexts, and what they pass
  'func bpf_iter_task',
  'func bpf_iter_tcp',
  'struct bpf_iter__task',
  'struct bpf_iter__tcp',
  'struct bpf_iter_meta',
  'struct seq_file',
  // iterators whose contexts hand key and value buffers (PTR_TO_BUF: test/verifier-corpus/iter-buf.txt)
  'func bpf_iter_bpf_map_elem',
  'func bpf_iter_sockmap',
  'func bpf_iter_bpf_sk_storage_map',
  'struct bpf_iter__bpf_map_elem',
  'struct bpf_iter__sockmap',
  'struct bpf_iter__bpf_sk_storage_map',
  // helpers on kernel objects: what they take (d_path's path, sock_from_file's file, skb_output's
  // sk_buff) and return (task_pt_regs's pt_regs, sock_from_file's socket), and where they are called
  'func bpf_iter_task_file',
  'struct bpf_iter__task_file',
  'struct path',
  'struct socket',
  'struct linux_binprm',
  'typedef btf_trace_sched_process_exec',
  'typedef btf_trace_kfree_skb',
  // a raw tracepoint whose argument may hold an ERR_PTR (raw_tp_null_args: test/verifier-corpus/tracing-raw-tp-null.txt)
  'typedef btf_trace_signal_deliver',
  'struct k_sigaction',
  // bpf_find_vma's callback argument
  'struct vm_area_struct',
];

/**
 * The per-CPU kernel variables the typed-ksym programs (ksym_*.c) load: kernel.btf keeps their
 * VARs in a DATASEC `.data..percpu` of their own (the kernel's lists all 352), and kallsyms.txt
 * which of them the recording kernel's /proc/kallsyms has (none without CONFIG_KALLSYMS_ALL).
 */
export const KERNEL_PERCPU_VARS: readonly string[] = ['runqueues', 'bpf_prog_active'];

let symbols: ReadonlySet<string> | undefined;
/** The recording kernel's kallsyms, as far as the corpus needs it (kallsyms.txt, by gen-kernel-btf.ts). */
export function corpusKernelSymbols(): (name: string) => boolean {
  symbols ??= new Set(readFileSync(join(DIR, 'kallsyms.txt'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')));
  return (name) => symbols!.has(name);
}

export interface Recorded {
  verdict: 'accept' | 'reject';
  /** the verifier's last line for a rejection (libbpf's CO-RE rewrite undone: see record.sh) */
  kernelMessage: string | null;
}

export function recorded(): { kernel: string; objects: Record<string, Recorded> } {
  return JSON.parse(readFileSync(join(DIR, 'verdicts.json'), 'utf8')) as { kernel: string; objects: Record<string, Recorded> };
}

let cached: Btf | undefined;
/** The recording kernel's types (kernel.btf), parsed once. */
export function corpusKernelBtf(): Btf {
  cached ??= Btf.parse(new Uint8Array(readFileSync(join(DIR, 'kernel.btf'))));
  return cached;
}
