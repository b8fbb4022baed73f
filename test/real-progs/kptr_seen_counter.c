/* The value's other fields stay the program's: a counter beside the kptrs. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_seen_counter(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 2;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	__sync_fetch_and_add(&v->seen, 1);
	return 0;
}
