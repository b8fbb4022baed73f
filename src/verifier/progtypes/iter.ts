/**
 * bpf_iter programs (SEC("iter/<target>"), BPF_TRACE_ITER): the context is
 * the target's `struct bpf_iter__<target>`, read as the arguments of the
 * kernel's `bpf_iter_<target>` function (DEFINE_BPF_ITER_FUNC; btf_ctx_access).
 * Every pointer argument is a trusted kernel-object pointer
 * (prog_args_trusted), except those the target registers in its
 * ctx_arg_info: these may be NULL, and are trusted only where registered
 * with PTR_TRUSTED (kernel/bpf/task_iter.c, map_iter.c, net/ipv4/tcp_ipv4.c,
 * ...). The program returns 0 or 1 (check_return_code's default range).
 */
import type { TracingTarget } from './tracing.js';

/**
 * A target's ctx_arg_info: maybe-NULL kernel pointers, trusted or plain; maybe-NULL key and
 * value buffers (PTR_TO_BUF, read-only for 'rdonly_buf': buf.ts).
 */
type CtxArg = 'trusted' | 'plain' | 'buf' | 'rdonly_buf';

const ITER_CTX_ARGS: Readonly<Record<string, Readonly<Record<string, CtxArg>>>> = {
  task: { task: 'trusted' },
  task_file: { task: 'plain', file: 'plain' },
  task_vma: { task: 'plain', vma: 'plain' },
  bpf_map: { map: 'trusted' },
  bpf_map_elem: { key: 'rdonly_buf', value: 'buf' },
  bpf_prog: { prog: 'plain' },
  bpf_link: { link: 'plain' },
  cgroup: { cgroup: 'trusted' },
  ksym: { ksym: 'plain' },
  tcp: { sk_common: 'trusted' },
  udp: { udp_sk: 'trusted' },
  unix: { unix_sk: 'plain' },
  netlink: { sk: 'plain' },
  ipv6_route: { rt: 'plain' },
  bpf_sk_storage_map: { sk: 'plain', value: 'buf' },
  sockmap: { key: 'rdonly_buf', sk: 'plain' },
};

/** The kernel function whose prototype types an iterator's context. */
export function iterFunc(target: string): string {
  return `bpf_iter_${target}`;
}

/**
 * The iterator's context arguments, flagged as its ctx_arg_info registers
 * them; or why tsbpf cannot judge the target (an unknown one).
 */
export function iterTarget(target: string, t: TracingTarget): TracingTarget | string {
  const info = ITER_CTX_ARGS[target];
  if (!info) return `the iterator target ${target} is not one tsbpf knows the context of (${Object.keys(ITER_CTX_ARGS).join(', ')})`;
  return {
    ...t,
    args: t.args.map((a) => {
      const f = a.name !== undefined ? info[a.name] : undefined;
      if (f === 'buf' || f === 'rdonly_buf') return { ...a, buf: f === 'buf' ? 'rdwr' as const : 'rdonly' as const };
      return f ? { ...a, maybeNull: true, ...(f === 'plain' ? { plain: true } : {}) } : a;
    }),
  };
}
