/* bpf_kptr_xchg returns the old pointer with a reference of its own: dropping
 * it leaks the reference. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_xchg_leak(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_struct *t, *old;
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	t = bpf_task_acquire(prev);
	if (!t)
		return 0;
	old = bpf_kptr_xchg(&v->task, t);
	return old != 0;
}
