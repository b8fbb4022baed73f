/* bpf_per_cpu_ptr takes a per-CPU variable (ARG_PTR_TO_PERCPU_BTF_ID): a
 * stack pointer is refused. Linux rejects it. */
#include "ksym.h"

SEC("raw_tp/sys_enter")
int ksym_per_cpu_not_percpu(void *ctx)
{
	struct rq local = {};
	const struct rq *rq = bpf_per_cpu_ptr(&local, 0);

	return rq ? rq->cpu : 0;
}
