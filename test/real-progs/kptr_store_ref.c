/* A referenced kptr changes only through bpf_kptr_xchg: a direct store, even
 * of NULL, is refused. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_store_ref(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	v->task = NULL;
	return 0;
}
