/* Task storage is reached through its own helpers only: bpf_map_lookup_elem
 * on it is refused (check_map_func_compatibility). Linux rejects it. */
#include "task_storage.h"

SEC("tp_btf/sched_switch")
int task_storage_lookup(unsigned long long *ctx)
{
	int key = 0;

	return bpf_map_lookup_elem(&starts, &key) != 0;
}
