/* uprobe (not .s): the same copy from user memory in a program that may not
 * sleep. Linux rejects it: "helper call might sleep in a non-sleepable prog". */
#include "real.h"

SEC("uprobe")
int helper_copy_from_user_nonsleepable(struct pt_regs *ctx)
{
	char buf[16];

	if (bpf_copy_from_user(buf, sizeof(buf), (void *)ctx->di))
		return 0;
	return buf[0] == '/';
}
