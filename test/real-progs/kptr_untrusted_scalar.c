/* Only a task pointer or NULL goes into a kptr field: a number is refused. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_untrusted_scalar(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	v->last = (void *)(long)bpf_get_prandom_u32();
	return 0;
}
