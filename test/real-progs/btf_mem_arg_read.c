/* A trusted kernel pointer is readable memory for a helper that only reads
 * (mem_types has PTR_TO_BTF_ID | PTR_TRUSTED, the argument is MEM_RDONLY):
 * bpf_strncmp over 12 of task->comm's 16 bytes. Linux accepts it. */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_mem_arg_read(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];

	return bpf_strncmp(next->comm, 12, "swapper");
}
