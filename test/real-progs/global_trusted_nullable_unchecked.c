/* tp_btf/sched_switch: an __arg_trusted __arg_nullable task read without a
 * NULL check (the callee is verified for any caller, NULL included). Linux
 * refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg __nullable_arg)
{
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_nullable_unchecked(unsigned long long *ctx)
{
	return pid_of((void *)ctx[1]);
}
