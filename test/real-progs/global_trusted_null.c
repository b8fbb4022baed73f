/* tp_btf/sched_switch: NULL passed for an __arg_trusted argument that is not
 * also __arg_nullable: check_reg_type finds a scalar where a kernel pointer
 * is expected. Linux refuses it ("Caller passes invalid args"). */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg)
{
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_null(unsigned long long *ctx)
{
	return pid_of(0);
}
