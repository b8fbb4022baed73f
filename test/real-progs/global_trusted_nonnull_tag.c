/* tp_btf/sched_switch: __arg_trusted with __arg_nonnull is a combination
 * btf_prepare_func_args refuses (a trusted argument is non-NULL unless
 * __arg_nullable). Linux refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg __nonnull_arg)
{
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_nonnull_tag(unsigned long long *ctx)
{
	return pid_of((void *)ctx[1]);
}
