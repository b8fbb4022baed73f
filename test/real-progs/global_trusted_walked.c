/* tp_btf/sched_switch: prev->mm, a pointer walked from a trusted task through
 * a field on none of the kernel's trusted or RCU lists (untrusted), passed for
 * an __arg_trusted __arg_nullable struct mm_struct. Linux refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int vm_of(struct mm_struct *mm __trusted_arg __nullable_arg)
{
	if (!mm)
		return 0;
	return mm->total_vm > 0;
}

SEC("tp_btf/sched_switch")
int global_trusted_walked(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];

	return vm_of(prev->mm);
}
