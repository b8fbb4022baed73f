/* An 8-byte read of the 4-byte pid reaches past the member. */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_beyond_member(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];

	return *(volatile __u64 *)&next->pid != 0;
}
