/* bpf_cgrp_storage_get takes a BPF_MAP_TYPE_CGRP_STORAGE map only
 * (check_map_func_compatibility): a task storage map is refused. Linux
 * rejects it. */
#include "cgrp_storage.h"
#include "task_storage.h"

SEC("tp_btf/cgroup_mkdir")
int cgrp_storage_wrong_map(unsigned long long *ctx)
{
	struct cgroup *cg = (void *)ctx[0];

	return bpf_cgrp_storage_get(&starts, cg, 0, 0) != 0;
}
