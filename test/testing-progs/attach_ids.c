// What identifies an attachment and the current task's pid namespace:
// bpf_get_attach_cookie, bpf_get_func_ip (kprobe, kretprobe, kprobe at an
// offset) and bpf_get_ns_current_pid_tgid against the namespace a global
// names (as libbpf-bootstrap's minimal_ns does), kept in an array.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct ids {
	__u64 cookie;
	__u64 func_ip;
	__s64 ns_ret;
	__u32 ns_pid, ns_tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ids);
	__uint(max_entries, 3);
} out SEC(".maps");

__u64 ns_dev;
__u64 ns_ino;
__u32 ns_size = sizeof(struct bpf_pidns_info);

static __always_inline int record(void *ctx, __u32 slot)
{
	struct bpf_pidns_info ns = {};
	struct ids *o = bpf_map_lookup_elem(&out, &slot);

	if (!o)
		return 0;
	o->cookie = bpf_get_attach_cookie(ctx);
	o->func_ip = bpf_get_func_ip(ctx);
	o->ns_ret = bpf_get_ns_current_pid_tgid(ns_dev, ns_ino, &ns, sizeof(ns));
	o->ns_pid = ns.pid;
	o->ns_tgid = ns.tgid;
	return 0;
}

SEC("kprobe/vfs_read")
int on_entry(struct pt_regs *ctx)
{
	return record(ctx, 0);
}

SEC("kretprobe/vfs_read")
int on_return(struct pt_regs *ctx)
{
	return record(ctx, 1);
}

SEC("kprobe/vfs_read+0x10")
int at_offset(struct pt_regs *ctx)
{
	return record(ctx, 2);
}

char LICENSE[] SEC("license") = "GPL";
