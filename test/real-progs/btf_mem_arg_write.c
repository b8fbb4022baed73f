/* Kernel objects are not the program's to write, through a helper either:
 * bpf_get_current_comm fills its buffer, so a trusted task pointer is refused
 * there. Linux rejects it: "bpf_get_current_comm() may write into memory
 * pointed by R1 type=trusted_ptr_". */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_mem_arg_write(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];

	bpf_get_current_comm(next->comm, sizeof(next->comm));
	return 0;
}
