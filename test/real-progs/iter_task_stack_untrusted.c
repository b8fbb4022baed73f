/* bpf_get_task_stack takes a plain, trusted or RCU task pointer
 * (btf_ptr_types): real_parent keeps RCU protection, but the owner of the
 * task's mm, walked through an untrusted pointer, is untrusted. Linux
 * rejects it. */
#include "iter.h"

struct mm_struct___own {
	struct task_struct *owner;
} __core;

SEC("iter/task")
int iter_task_stack_untrusted(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct mm_struct___own *mm;
	__u64 st[4];

	if (!task)
		return 0;
	bpf_get_task_stack(task->real_parent, st, sizeof(st), 0);
	mm = (void *)task->mm;
	if (!mm)
		return 0;
	bpf_get_task_stack(mm->owner, st, sizeof(st), 0);
	return 0;
}
