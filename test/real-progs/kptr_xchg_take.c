/* Take the task out of the map (swap in NULL), read it, and release it. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_xchg_take(unsigned long long *ctx)
{
	struct task_struct *old;
	struct task_slot *v;
	__u32 key = 1;
	int pid;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	old = bpf_kptr_xchg(&v->task, NULL);
	if (!old)
		return 0;
	pid = old->pid;
	bpf_task_release(old);
	return pid == 1;
}
