// Task local storage the way libbpf-tools style programs keep per-task state:
// a value made on a task's first wakeup (from zeros, or from an initial value
// kept in an array), counted on the next ones, looked up without creating it
// for the current task, and dropped when the task exits.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct task_val {
	__u64 wakeups;
	__u64 last_ns;
	__u32 tag;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_val);
} per_task SEC(".maps");

/* the initial value of a new task's storage (slot 0), when use_init is set */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_val);
} init_val SEC(".maps");

const volatile __u32 use_init = 0;
__s64 delete_ret, bad_flags_null, null_task_delete;
__u64 current_wakeups;

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	struct task_val *init = 0, *v;
	__u32 zero = 0;

	if (use_init)
		init = bpf_map_lookup_elem(&init_val, &zero);
	v = bpf_task_storage_get(&per_task, p, init, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!v)
		return 0;
	v->wakeups++;
	v->last_ns = bpf_ktime_get_ns();
	/* unknown flags: NULL, as Linux */
	bad_flags_null = bpf_task_storage_get(&per_task, p, 0, 2) == 0;
	/* the current task's value, never created here */
	v = bpf_task_storage_get(&per_task, bpf_get_current_task_btf(), 0, 0);
	current_wakeups = v ? v->wakeups : (__u64)-1;
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	delete_ret = bpf_task_storage_delete(&per_task, p);
	null_task_delete = bpf_task_storage_delete(&per_task, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
