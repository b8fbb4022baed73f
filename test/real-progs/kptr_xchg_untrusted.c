/* bpf_kptr_xchg works on referenced kptrs only, not on a __kptr_untrusted field. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_xchg_untrusted(unsigned long long *ctx)
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
	old = bpf_kptr_xchg(&v->last, t);
	if (old)
		bpf_task_release(old);
	return 0;
}
