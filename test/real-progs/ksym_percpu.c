/* A per-CPU struct and a per-CPU int read through bpf_per_cpu_ptr (which
 * may be NULL: the CPU may be past nr_cpu_ids) and bpf_this_cpu_ptr (never
 * NULL), as a run-queue length tool does. Linux with CONFIG_KALLSYMS_ALL accepts
 * it (ksym.h). */
#include "ksym.h"

__u64 out_nr_running, out_cpu, out_active;

SEC("raw_tp/sys_enter")
int ksym_percpu(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	const struct rq *rq = bpf_per_cpu_ptr(&runqueues, cpu);
	const int *active;

	if (rq)
		out_nr_running = rq->nr_running;
	active = bpf_per_cpu_ptr(&bpf_prog_active, 0);
	if (active)
		out_active = *active;
	rq = bpf_this_cpu_ptr(&runqueues);
	out_cpu = rq->cpu;
	active = bpf_this_cpu_ptr(&bpf_prog_active);
	out_active += *active;
	return 0;
}
