/* uprobe.s: bpf_copy_from_user_task (GPL, might_sleep) reads another
 * task's memory; the task is the trusted current task. Linux accepts it. */
#include "real.h"

SEC("uprobe.s")
int helper_copy_from_user_task(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	char buf[16];

	if (bpf_copy_from_user_task(buf, sizeof(buf), (void *)ctx->di, t, 0))
		return 0;
	return buf[0] == '/';
}
