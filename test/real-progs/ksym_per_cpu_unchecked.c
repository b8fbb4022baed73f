/* bpf_per_cpu_ptr returns NULL for a CPU past nr_cpu_ids: reading through
 * it without a check is refused. Linux with
 * CONFIG_KALLSYMS_ALL rejects it so (ksym.h). */
#include "ksym.h"

SEC("raw_tp/sys_enter")
int ksym_per_cpu_unchecked(void *ctx)
{
	const struct rq *rq = bpf_per_cpu_ptr(&runqueues, 1);

	return rq->nr_running;
}
