// tp_btf and fentry/fexit programs: their arguments are kernel pointers the
// verifier types from the kernel BTF (PTR_TO_BTF_ID), read with direct loads.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} seen SEC(".maps");

static __always_inline void put(__u32 i, __s64 v)
{
	bpf_map_update_elem(&seen, &i, &v, BPF_ANY);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	put(0, preempt);
	put(1, prev->pid);
	put(2, next->pid);
	put(3, next->real_parent->tgid);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	put(0, preempt);
	put(1, BPF_CORE_READ(prev, pid));
	put(2, BPF_CORE_READ(next, pid));
	put(3, BPF_CORE_READ(next, real_parent, tgid));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
