/* The value bpf_cgrp_storage_get returns may be NULL (RET_PTR_TO_MAP_VALUE_OR_NULL):
 * writing through it unchecked is refused. Linux rejects it. */
#include "cgrp_storage.h"

SEC("tp_btf/cgroup_mkdir")
int cgrp_storage_unchecked(unsigned long long *ctx)
{
	struct cgroup *cg = (void *)ctx[0];
	__u64 *v = bpf_cgrp_storage_get(&per_cgroup, cg, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	*v = 1;
	return 0;
}
