/* A task local storage map as tools declare one: a u64 per task. */
#ifndef TASK_STORAGE_H
#define TASK_STORAGE_H
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} starts SEC(".maps");
#endif
