// SPDX-License-Identifier: GPL-2.0
/* opensnoop: every open with its result. Three pairs of programs, one
 * loaded per run (opensnoop.mjs chooses): an entry program keeps the
 * arguments per thread, an exit program sends them with the return value
 * through a ring buffer.
 *  - kprobe/kretprobe on do_sys_openat2, the function open(), openat(),
 *    openat2() and creat() share, as the classic opensnoop tools do;
 *  - fentry/fexit on the same function, for kernels built without
 *    CONFIG_KPROBES (they need BTF and ftrace direct calls instead);
 *  - the syscalls/sys_{enter,exit}_openat tracepoints (openat() only). */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <linux/openat2.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

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

static __always_inline int enter(__u64 filename, __s32 flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args a = { .filename = filename, .flags = flags };

	bpf_map_update_elem(&starts, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline int leave(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct args *a = bpf_map_lookup_elem(&starts, &id);
	struct event *e;

	if (!a)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = id >> 32;
		e->ret = (__s32)ret;
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

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct sys_enter_openat *ctx)
{
	return enter(ctx->filename, (__s32)ctx->flags);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct sys_exit *ctx)
{
	return leave(ctx->ret);
}

/* long do_sys_openat2(int dfd, const char __user *filename, struct open_how *how) */
static __always_inline __s32 how_flags(struct open_how *how)
{
	__u64 flags = 0;

	bpf_probe_read_kernel(&flags, sizeof(flags), &how->flags);
	return (__s32)flags;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(openat2_kprobe, int dfd, const char *filename, struct open_how *how)
{
	return enter((__u64)filename, how_flags(how));
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(openat2_kretprobe, long ret)
{
	return leave(ret);
}

SEC("fentry/do_sys_openat2")
int BPF_PROG(openat2_fentry, int dfd, const char *filename, struct open_how *how)
{
	return enter((__u64)filename, how_flags(how));
}

SEC("fexit/do_sys_openat2")
int BPF_PROG(openat2_fexit, int dfd, const char *filename, struct open_how *how, long ret)
{
	return leave(ret);
}

char LICENSE[] SEC("license") = "GPL";
