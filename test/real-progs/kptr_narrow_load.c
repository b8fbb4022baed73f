/* A kptr is read as a whole 8-byte pointer: a 4-byte read of it is refused. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_narrow_load(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	return *(volatile __u32 *)&v->last == 0;
}
