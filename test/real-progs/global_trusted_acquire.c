/* tp_btf/sched_switch: the callee passes its __arg_trusted task to a
 * KF_TRUSTED_ARGS kfunc (bpf_task_acquire) and releases what it acquired;
 * the caller passes a referenced task it releases itself. Linux accepts it. */
#include "real.h"
#include "global_trusted.h"

__global int hold(struct task_struct *t __trusted_arg)
{
	struct task_struct *own = bpf_task_acquire(t);

	if (!own)
		return 0;
	bpf_task_release(own);
	return 1;
}

SEC("tp_btf/sched_switch")
int global_trusted_acquire(unsigned long long *ctx)
{
	struct task_struct *t = bpf_task_acquire((void *)ctx[2]);
	int r;

	if (!t)
		return 0;
	r = hold(t);
	bpf_task_release(t);
	return r;
}
