/* Cgroup local storage on the cgroup a tp_btf program is given (a trusted
 * struct cgroup pointer): bpf_cgrp_storage_get creates the element, the
 * value is NULL-checked and counted, then bpf_cgrp_storage_delete drops it.
 * Linux accepts it. */
#include "cgrp_storage.h"

SEC("tp_btf/cgroup_mkdir")
int cgrp_storage_tp_btf(unsigned long long *ctx)
{
	struct cgroup *cg = (void *)ctx[0];
	__u64 *v;

	v = bpf_cgrp_storage_get(&per_cgroup, cg, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	*v += 1;
	return bpf_cgrp_storage_delete(&per_cgroup, cg);
}
