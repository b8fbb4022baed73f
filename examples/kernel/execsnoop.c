// SPDX-License-Identifier: GPL-2.0
/* execsnoop: one event per execve(), sent through a ring buffer
 * (examples/kernel/execsnoop.mjs prints them as they happen). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 ppid_unused;
	char comm[16];
	char filename[128];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* the tracepoint's record (tracefs events/syscalls/sys_enter_execve/format) */
struct sys_enter {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

SEC("tracepoint/syscalls/sys_enter_execve")
int execsnoop(struct sys_enter *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid_unused = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const void *)ctx->args[0]) < 0)
		e->filename[0] = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
