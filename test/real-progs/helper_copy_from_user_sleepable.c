/* uprobe.s: a sleepable uprobe copies the first argument's string from user
 * memory (bpf_copy_from_user: might_sleep). Linux accepts it. */
#include "real.h"

SEC("uprobe.s")
int helper_copy_from_user_sleepable(struct pt_regs *ctx)
{
	char buf[16];

	if (bpf_copy_from_user(buf, sizeof(buf), (void *)ctx->di))
		return 0;
	return buf[0] == '/';
}
