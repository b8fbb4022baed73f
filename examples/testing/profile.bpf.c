// profile-like: on each perf sample, count the running task's
// (pid, kernel stack, user stack) in a hash map; the stacks themselves go
// to a stack_trace map, keyed by the ids bpf_get_stackid returns.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_STACK_DEPTH 127
#define TASK_COMM_LEN 16

struct key_t {
	__u32 pid;
	__s32 kern_stack_id;
	__s32 user_stack_id;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stackmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key_t);
	__type(value, __u64);
} counts SEC(".maps");

/* set by the loader: sample only this process (0: every process) */
const volatile __u32 targ_pid = 0;

SEC("perf_event")
int do_perf_event(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct key_t key = {};
	__u64 zero = 0, *valp;

	if (pid == 0) /* the idle task */
		return 0;
	if (targ_pid && pid != targ_pid)
		return 0;
	key.pid = pid;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.kern_stack_id = bpf_get_stackid(&ctx->regs, &stackmap, 0);
	key.user_stack_id = bpf_get_stackid(&ctx->regs, &stackmap, BPF_F_USER_STACK);

	valp = bpf_map_lookup_elem(&counts, &key);
	if (!valp) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		valp = bpf_map_lookup_elem(&counts, &key);
		if (!valp)
			return 0;
	}
	__sync_fetch_and_add(valp, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
