// Loads through kernel-object pointers (Linux's BPF_PROBE_MEM): every width,
// a pointer walked from a pointer, and the current task as a BTF pointer.
// test/probe-mem.test.ts points the arguments anywhere in the address space
// and checks that only kernel memory of the model is ever read.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "seen.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(probe, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct *cur = bpf_get_current_task_btf();

	put(0, (__u32)next->pid);
	put(1, (unsigned char)next->comm[1]);
	put(2, next->start_time);
	put(3, (__u64)next->real_parent);
	put(4, (__u32)next->real_parent->tgid);
	put(5, (__u32)cur->pid);
	put(6, (__u64)cur);
	put(7, bpf_get_current_task());
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
