/* bpf_task_storage_get may fail: its value must be NULL-checked. Linux rejects it. */
#include "task_storage.h"

SEC("tp_btf/sched_switch")
int task_storage_unchecked(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	__u64 *v = bpf_task_storage_get(&starts, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	return *v & 1;
}
