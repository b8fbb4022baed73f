/* NULL goes into a kptr field, a number does not, whichever path the
 * verifier walks first: the stored scalar is compared precisely when the
 * paths meet (check_map_kptr_access marks it precise). */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_null_or_number(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_slot *v;
	__u32 key = 0;
	long x = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	if (prev->pid == 1)
		x = 8;
	asm volatile("" : "+r"(x));
	v->last = (void *)x;
	return 0;
}
