/* bpf_task_acquire may return NULL: bpf_kptr_xchg releases its second
 * argument, which must not be a maybe-NULL pointer. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_xchg_unchecked(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_struct *t, *old;
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	t = bpf_task_acquire(prev);
	old = bpf_kptr_xchg(&v->task, t);
	if (old)
		bpf_task_release(old);
	return 0;
}
