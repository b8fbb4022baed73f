// The cgroup helpers of tracing programs on the kit's cgroup hierarchy:
// bpf_current_task_under_cgroup on a cgroup_array (libbpf-tools' cgroup
// filter), bpf_get_current_cgroup_id and bpf_get_current_ancestor_cgroup_id,
// and the same ids read through task->cgroups->dfl_cgrp with CO-RE.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 2);
} cgroup_map SEC(".maps");

struct ids {
	__s64 under[3]; /* slots 0, 1 and 2 (past the end) */
	__u64 id;
	__u64 ancestor[4]; /* levels 0..3 */
	__u64 ancestor_neg;
	__u64 core_id;
	__s32 core_level;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct ids);
	__uint(max_entries, 1);
} out SEC(".maps");

SEC("kprobe/vfs_read")
int cgroup_ids(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct ids *o = bpf_map_lookup_elem(&out, &zero);
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	if (!o)
		return 0;
	o->under[0] = bpf_current_task_under_cgroup(&cgroup_map, 0);
	o->under[1] = bpf_current_task_under_cgroup(&cgroup_map, 1);
	o->under[2] = bpf_current_task_under_cgroup(&cgroup_map, 2);
	o->id = bpf_get_current_cgroup_id();
	o->ancestor[0] = bpf_get_current_ancestor_cgroup_id(0);
	o->ancestor[1] = bpf_get_current_ancestor_cgroup_id(1);
	o->ancestor[2] = bpf_get_current_ancestor_cgroup_id(2);
	o->ancestor[3] = bpf_get_current_ancestor_cgroup_id(3);
	o->ancestor_neg = bpf_get_current_ancestor_cgroup_id(-1);
	o->core_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	o->core_level = BPF_CORE_READ(task, cgroups, dfl_cgrp, level);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
