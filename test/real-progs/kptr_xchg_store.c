/* Keep the task switched out in a map: take a reference (bpf_task_acquire),
 * hand it to the map's referenced kptr with bpf_kptr_xchg, and release the
 * pointer the map held before (the call returns it, referenced, maybe NULL). */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_xchg_store(unsigned long long *ctx)
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
	if (old)
		bpf_task_release(old);
	return 0;
}
