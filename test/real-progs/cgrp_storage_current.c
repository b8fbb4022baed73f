/* The current task's cgroup, as tools reach it: bpf_get_current_task_btf()
 * ->cgroups->dfl_cgrp (an RCU pointer in a non-sleepable program), or NULL,
 * which the helper takes too. Linux accepts it. */
#include "cgrp_storage.h"

SEC("tp_btf/sched_switch")
int cgrp_storage_current(unsigned long long *ctx)
{
	struct task_struct___cg *t = (void *)bpf_get_current_task_btf();
	__u64 *v;

	v = bpf_cgrp_storage_get(&per_cgroup, t->cgroups->dfl_cgrp, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (v)
		*v += 1;
	return 0;
}
