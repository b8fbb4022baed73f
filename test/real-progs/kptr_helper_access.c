/* A helper never reads a kptr field: the whole value (kptrs included) given
 * to bpf_map_update_elem is refused. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_helper_access(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0, other = 1;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v || prev->pid == 0)
		return 0;
	bpf_map_update_elem(&slots, &other, v, BPF_ANY);
	return 0;
}
