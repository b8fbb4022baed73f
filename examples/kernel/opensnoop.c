// SPDX-License-Identifier: GPL-2.0
/* opensnoop: every openat() with its result, from the syscall tracepoints
 * (sys_enter_openat keeps the arguments per thread, sys_exit_openat sends
 * them with the return value through a ring buffer). Tracepoints rather
 * than kprobes: they exist on kernels built without CONFIG_KPROBES. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
	__u64 filename;
	__s32 flags;
};

struct event {
	__u32 pid;
	__s32 ret;
	__s32 flags;
	__u32 pad;
	char comm[16];
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct args);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* tracefs events/syscalls/sys_enter_openat/format: dfd, filename, flags, mode */
struct sys_enter_openat {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 dfd;
	__u64 filename;
	__u64 flags;
	__u64 mode;
};

/* events/syscalls/sys_exit_openat/format */
struct sys_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct sys_enter_openat *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args a = { .filename = ctx->filename, .flags = (__s32)ctx->flags };

	bpf_map_update_elem(&starts, &id, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args *a = bpf_map_lookup_elem(&starts, &id);
	struct event *e;

	if (!a)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->ret = (__s32)ctx->ret;
		e->flags = a->flags;
		e->pad = 0;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const void *)a->filename) < 0)
			e->filename[0] = 0;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&starts, &id);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
