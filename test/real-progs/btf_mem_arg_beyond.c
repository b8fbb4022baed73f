/* A helper's read through a trusted kernel pointer is checked as a load of
 * its size (check_ptr_to_btf_access): 17 bytes from task->comm run past the
 * member's end. Linux rejects it: "access beyond the end of member comm". */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_mem_arg_beyond(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];

	return bpf_strncmp(next->comm, 17, "swapper");
}
