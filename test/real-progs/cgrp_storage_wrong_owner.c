/* bpf_cgrp_storage_get's owner must be a struct cgroup (arg2_btf_id): a
 * task is refused. Linux rejects it. */
#include "cgrp_storage.h"

SEC("tp_btf/sched_switch")
int cgrp_storage_wrong_owner(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];

	return bpf_cgrp_storage_get(&per_cgroup, (void *)prev, 0, 0) != 0;
}
