/* A kernel object is read at constant offsets only: comm[i] with a variable i is refused. */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_variable_offset(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];
	unsigned int i = next->pid & 7;

	return next->comm[i];
}
