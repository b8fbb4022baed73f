/* A cgroup local storage map as tools declare one (BPF_MAP_TYPE_CGRP_STORAGE,
 * Linux 6.2): a counter per cgroup, and the cgroup types the programs reach. */
#ifndef CGRP_STORAGE_H
#define CGRP_STORAGE_H
#include "real.h"

struct cgroup {
	int level;
} __core;

struct css_set {
	struct cgroup *dfl_cgrp;
} __core;

struct task_struct___cg {
	struct css_set *cgroups;
} __core;

struct {
	__uint(type, 32); /* BPF_MAP_TYPE_CGRP_STORAGE: Debian 12's linux/bpf.h (6.1) predates it */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} per_cgroup SEC(".maps");
#endif
