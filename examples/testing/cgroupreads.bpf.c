// cgroupreads: count vfs_read calls per cgroup, only for tasks in (or
// below) the cgroup user space puts in slot 0 of a cgroup array, as
// libbpf-tools' --cgroup filters do (docs/testing.md).
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} cgroup_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64); /* cgroup id */
	__type(value, __u64);
	__uint(max_entries, 1024);
} reads SEC(".maps");

SEC("kprobe/vfs_read")
int BPF_KPROBE(count_reads)
{
	__u64 id, one = 1, *n;

	if (bpf_current_task_under_cgroup(&cgroup_map, 0) != 1)
		return 0;
	id = bpf_get_current_cgroup_id();
	n = bpf_map_lookup_elem(&reads, &id);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&reads, &id, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
