/* Task storage is reached through its own helpers only: bpf_map_lookup_elem
 * on it is refused (check_map_func_compatibility). Linux rejects it. */
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} starts SEC(".maps");

SEC("tp_btf/sched_switch")
int task_storage_lookup(unsigned long long *ctx)
{
	int key = 0;

	return bpf_map_lookup_elem(&starts, &key) != 0;
}
