// fentry/fexit programs whose arguments are kernel pointers read with
// direct loads (BPF_PROBE_MEM): they attach to functions of the running
// kernel's BTF (test/probe-mem.test.ts loads them with /sys/kernel/btf/vmlinux).
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void put(__u32 i, __u64 v)
{
	bpf_map_update_elem(&seen, &i, &v, BPF_ANY);
}

SEC("fentry/wake_up_new_task")
int BPF_PROG(on_new_task, struct task_struct *p)
{
	put(0, (__u32)p->pid);
	put(1, (__u32)p->real_parent->tgid);
	return 0;
}

SEC("fexit/security_file_open")
int BPF_PROG(on_open_exit, struct file *file, int ret)
{
	put(2, (__u32)file->f_flags);
	put(3, (__u64)(long)ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
