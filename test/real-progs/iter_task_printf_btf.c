/* iter/task: each task printed by its BTF type (bpf_seq_printf_btf with a
 * struct btf_ptr naming task_struct by its kernel BTF id). Linux accepts it. */
#include "iter.h"

SEC("iter/task")
int iter_task_printf_btf(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct btf_ptr ptr = {};

	if (!task)
		return 0;
	ptr.ptr = task;
	ptr.type_id = bpf_core_type_id_kernel(struct task_struct);
	bpf_seq_printf_btf(seq, &ptr, sizeof(ptr), 0);
	return 0;
}
