/* The kptr tags name struct task_struct, which this program never uses:
 * clang emits it as a forward declaration (FWD), and the kernel does not
 * take a member pointing to one for a kptr, so the field is plain memory
 * (and a 4-byte read of it is fine). */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_fwd_pointee(unsigned long long *ctx)
{
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	return *(volatile __u32 *)&v->last == 0;
}
