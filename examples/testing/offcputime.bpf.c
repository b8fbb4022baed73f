// offcputime-like: when a task is switched out, remember when and with
// which stacks (a stack_trace map); when it runs again, add the time it
// spent off the CPU to the total of (pid, stacks), in microseconds.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_STACK_DEPTH 127
#define TASK_COMM_LEN 16

struct key_t {
	__u32 pid;
	__u32 tgid;
	__s32 user_stack_id;
	__s32 kern_stack_id;
};

struct val_t {
	__u64 delta;
	char comm[TASK_COMM_LEN];
};

struct internal_key {
	__u64 start_ts;
	struct key_t key;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct internal_key);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct key_t);
	__type(value, struct val_t);
} info SEC(".maps");

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct internal_key *i_keyp, i_key = {};
	struct val_t *valp, val = {};
	__s64 delta;
	__u32 pid;

	/* prev is still the current task: its stacks are the ones being switched out */
	pid = BPF_CORE_READ(prev, pid);
	if (pid) {
		i_key.key.pid = pid;
		i_key.key.tgid = BPF_CORE_READ(prev, tgid);
		i_key.start_ts = bpf_ktime_get_ns();
		i_key.key.user_stack_id = bpf_get_stackid(ctx, &stackmap, BPF_F_USER_STACK);
		i_key.key.kern_stack_id = bpf_get_stackid(ctx, &stackmap, 0);
		bpf_map_update_elem(&start, &pid, &i_key, BPF_ANY);
	}

	pid = BPF_CORE_READ(next, pid);
	i_keyp = bpf_map_lookup_elem(&start, &pid);
	if (!i_keyp)
		return 0;
	delta = (__s64)(bpf_ktime_get_ns() - i_keyp->start_ts);
	if (delta < 0)
		goto cleanup;
	delta /= 1000U;
	valp = bpf_map_lookup_elem(&info, &i_keyp->key);
	if (!valp) {
		val.delta = delta;
		bpf_probe_read_kernel_str(&val.comm, sizeof(val.comm), next->comm);
		bpf_map_update_elem(&info, &i_keyp->key, &val, BPF_NOEXIST);
	} else {
		__sync_fetch_and_add(&valp->delta, delta);
	}
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
