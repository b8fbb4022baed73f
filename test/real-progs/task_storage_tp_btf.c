/* Task local storage as tools keep per-task state: a
 * BPF_MAP_TYPE_TASK_STORAGE map, bpf_task_storage_get on a tp_btf task
 * (creating the element), the value NULL-checked, then deleted. Linux
 * accepts it. */
#include "task_storage.h"

SEC("tp_btf/sched_switch")
int task_storage_tp_btf(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	__u64 *v;

	v = bpf_task_storage_get(&starts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	*v += 1;
	bpf_task_storage_delete(&starts, prev);
	return 0;
}
