/* tp_btf/sched_switch: a task passed for an __arg_trusted struct mm_struct
 * (btf_struct_ids_match: a task_struct does not begin with an mm_struct).
 * Linux refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int vm_of(struct mm_struct *mm __trusted_arg)
{
	return mm->total_vm > 0;
}

SEC("tp_btf/sched_switch")
int global_trusted_wrong_type(unsigned long long *ctx)
{
	return vm_of((void *)ctx[1]);
}
