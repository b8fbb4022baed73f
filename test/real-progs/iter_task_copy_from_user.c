/* iter/task (not iter.s): copying from user memory in an iterator that may
 * not sleep. Linux rejects it: "helper call might sleep in a non-sleepable prog". */
#include "iter.h"

SEC("iter/task")
int iter_task_copy_from_user(struct bpf_iter__task *ctx)
{
	char buf[8];

	if (!ctx->task)
		return 0;
	return bpf_copy_from_user(buf, sizeof(buf), (void *)0x1000) == 0;
}
