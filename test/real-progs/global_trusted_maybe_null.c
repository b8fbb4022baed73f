/* tp_btf/sched_switch: a task bpf_task_acquire returned, not yet NULL-checked,
 * passed for an __arg_trusted argument that is not __arg_nullable. Linux
 * refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg)
{
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_maybe_null(unsigned long long *ctx)
{
	struct task_struct *t = bpf_task_acquire((void *)ctx[1]);
	int r = pid_of(t);

	if (t)
		bpf_task_release(t);
	return r;
}
