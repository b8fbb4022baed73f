/* An iterator returns 0 or 1 (check_return_code). Linux rejects 2. */
#include "iter.h"

SEC("iter/task")
int iter_task_ret(struct bpf_iter__task *ctx)
{
	return 2;
}
