/* bpf_per_cpu_ptr takes the variable's address exactly as loaded: a
 * pointer moved into it (&runqueues.nr_running) is refused. Linux with
 * CONFIG_KALLSYMS_ALL rejects it so (ksym.h). */
#include "ksym.h"

SEC("raw_tp/sys_enter")
int ksym_per_cpu_offset(void *ctx)
{
	const unsigned int *n = bpf_per_cpu_ptr(&runqueues.nr_running, 0);

	return n ? *n : 0;
}
