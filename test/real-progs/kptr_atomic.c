/* A kptr field takes plain loads and stores only: an atomic add on the
 * untrusted one is refused. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_atomic(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	__sync_fetch_and_add((long *)&v->last, 8);
	return 0;
}
