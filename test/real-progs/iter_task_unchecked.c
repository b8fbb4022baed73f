/* The iterator's task is NULL on its last call (PTR_TO_BTF_ID_OR_NULL in
 * the target's ctx_arg_info): reading it unchecked. Linux rejects it. */
#include "iter.h"

SEC("iter/task")
int iter_task_unchecked(struct bpf_iter__task *ctx)
{
	return ctx->task->pid & 1;
}
