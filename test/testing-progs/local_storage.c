// Cgroup and inode local storage the way tools keep per-object state: a
// count per cgroup made when the cgroup is created (tp_btf/cgroup_mkdir) and
// per directory inode where files are created (lsm/inode_create), from an
// initial value or zeros; gets without F_CREATE, with bad flags, without an
// owner; deletes.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct obj_val {
	__u64 count;
	__u64 last_ns;
};

struct {
	__uint(type, 32); /* BPF_MAP_TYPE_CGRP_STORAGE: Debian 12's linux/bpf.h (6.1) predates it */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct obj_val);
} per_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct obj_val);
} per_dir SEC(".maps");

/* the initial value of a new element (slot 0), when use_init is set */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct obj_val);
} init_val SEC(".maps");

const volatile __u32 use_init = 0;
__s64 cg_delete_ret, null_cg_delete, inode_delete_ret, null_inode_delete;
__u64 bad_flags_null, before_count, null_owner_get;

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_mkdir, struct cgroup *cg, const char *path)
{
	struct obj_val *init = 0, *v;
	__u32 zero = 0;

	/* the cgroup's value as it was, never created by this get */
	v = bpf_cgrp_storage_get(&per_cgroup, cg, 0, 0);
	before_count = v ? v->count : (__u64)-1;
	if (use_init)
		init = bpf_map_lookup_elem(&init_val, &zero);
	v = bpf_cgrp_storage_get(&per_cgroup, cg, init, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	v->count++;
	v->last_ns = bpf_ktime_get_ns();
	/* unknown flags, or no cgroup: NULL, as Linux */
	bad_flags_null = bpf_cgrp_storage_get(&per_cgroup, cg, 0, 2) == 0;
	null_owner_get = bpf_cgrp_storage_get(&per_cgroup, 0, 0, BPF_LOCAL_STORAGE_GET_F_CREATE) == 0;
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_mkdir_drop, struct cgroup *cg, const char *path)
{
	/* a second program at the hook: a cgroup made at level 3 loses its value again */
	if (cg->level == 3)
		cg_delete_ret = bpf_cgrp_storage_delete(&per_cgroup, cg);
	null_cg_delete = bpf_cgrp_storage_delete(&per_cgroup, 0);
	return 0;
}

SEC("lsm/inode_create")
int BPF_PROG(on_create, struct inode *dir, struct dentry *dentry, umode_t mode)
{
	struct obj_val *v;

	v = bpf_inode_storage_get(&per_dir, dir, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	v->count++;
	/* the third file created in a directory drops its value again */
	if (v->count == 3)
		inode_delete_ret = bpf_inode_storage_delete(&per_dir, dir);
	null_inode_delete = bpf_inode_storage_delete(&per_dir, 0);
	/* files with the sticky bit may not be created */
	return mode & 01000 ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
