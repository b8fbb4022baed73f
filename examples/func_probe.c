// SPDX-License-Identifier: MIT
/*
 * Probes on a JavaScript function (src/hooks/uprobe.ts): the context is the
 * x86-64 struct pt_regs, so libbpf's BPF_KPROBE / BPF_KRETPROBE macros and
 * PT_REGS_PARMn work unchanged (built with -D__TARGET_ARCH_x86).
 *
 *   on_entry:  counts calls per function (bpf_get_func_ip), keeps the last
 *              call's two numbers and its string argument (read with
 *              bpf_probe_read_user_str), the caller's pid/tgid and the time;
 *   on_return: keeps the last return value.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct call {
	__u64 a;
	__u64 b;
	__u64 ret;
	__u64 pid_tgid;
	__u64 ts_ns;
	char s[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call);
} last SEC(".maps");

SEC("uprobe")
int BPF_KPROBE(on_entry, __u64 a, __u64 b, const char *s)
{
	__u32 zero = 0;
	__u64 ip = bpf_get_func_ip(ctx), one = 1, *n;
	struct call *c;

	n = bpf_map_lookup_elem(&calls, &ip);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&calls, &ip, &one, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&last, &zero);
	if (!c)
		return 0;
	c->a = a;
	c->b = b;
	c->pid_tgid = bpf_get_current_pid_tgid();
	c->ts_ns = bpf_ktime_get_ns();
	if (s)
		bpf_probe_read_user_str(c->s, sizeof(c->s), s);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_return, __u64 rc)
{
	__u32 zero = 0;
	struct call *c = bpf_map_lookup_elem(&last, &zero);

	if (c)
		c->ret = rc;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
