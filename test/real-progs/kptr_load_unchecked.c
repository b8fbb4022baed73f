/* A kptr loaded from a map value may be NULL: it is read only once checked. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_load_unchecked(unsigned long long *ctx)
{
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	return v->task->pid == 1;
}
