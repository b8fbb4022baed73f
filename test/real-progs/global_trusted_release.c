/* tp_btf/sched_switch: the callee releases its __arg_trusted task; the
 * argument holds no reference (the caller's is not handed over), so
 * bpf_task_release finds nothing to release. Linux refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int drop(struct task_struct *t __trusted_arg)
{
	bpf_task_release(t);
	return 0;
}

SEC("tp_btf/sched_switch")
int global_trusted_release(unsigned long long *ctx)
{
	struct task_struct *t = bpf_task_acquire((void *)ctx[1]);

	if (!t)
		return 0;
	drop(t);
	bpf_task_release(t);
	return 0;
}
