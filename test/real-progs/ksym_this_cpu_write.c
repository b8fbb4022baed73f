/* bpf_this_cpu_ptr's copy of a per-CPU int is read-only memory
 * (MEM_RDONLY): writing it is refused. Linux with
 * CONFIG_KALLSYMS_ALL rejects it so (ksym.h). */
#include "ksym.h"

SEC("raw_tp/sys_enter")
int ksym_this_cpu_write(void *ctx)
{
	int *active = (int *)bpf_this_cpu_ptr(&bpf_prog_active);

	*active = 0;
	return 0;
}
