/* A referenced task kptr read directly in a non-sleepable program is RCU
 * protected (MEM_RCU), maybe NULL: readable once checked, and good for
 * bpf_task_acquire (KF_RCU). */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_load_rcu(unsigned long long *ctx)
{
	struct task_struct *p, *t;
	struct task_slot *v;
	__u32 key = 0;
	int pid;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	p = v->task;
	if (!p)
		return 0;
	pid = p->pid;
	t = bpf_task_acquire(p);
	if (t)
		bpf_task_release(t);
	return pid == 1;
}
