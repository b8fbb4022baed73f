/* tp_btf/sched_switch: __arg_trusted __arg_nullable: the caller may pass NULL
 * or a trusted task, the callee checks before reading. Linux accepts it. */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg __nullable_arg)
{
	if (!t)
		return 0;
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_nullable(unsigned long long *ctx)
{
	return pid_of(0) + pid_of((void *)ctx[2]);
}
