/* iter/task as libbpf-bootstrap's task_iter writes it: the task may be NULL
 * (the iterator's last call), its kernel stack read with
 * bpf_get_task_stack, a record written to ctx->meta->seq (trusted through
 * the single-member union). Linux accepts it. */
#include "iter.h"

struct rec {
	int pid;
	long n;
	__u64 stack[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec);
} buf SEC(".maps");

SEC("iter/task")
int iter_task_seq(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u32 zero = 0;
	struct rec *r;

	if (!task)
		return 0;
	r = bpf_map_lookup_elem(&buf, &zero);
	if (!r)
		return 0;
	r->pid = task->pid;
	r->n = bpf_get_task_stack(task, r->stack, sizeof(r->stack), 0);
	bpf_seq_write(seq, r, sizeof(*r));
	return 0;
}
