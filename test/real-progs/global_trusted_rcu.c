/* tp_btf/sched_switch: prev->real_parent, an RCU-protected task (MEM_RCU),
 * passed for an __arg_trusted __arg_nullable task: not trusted, not
 * referenced. Linux 6.18 refuses it ("R1 must be referenced or trusted"). */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg __nullable_arg)
{
	return t ? t->pid : 0;
}

SEC("tp_btf/sched_switch")
int global_trusted_rcu(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];

	return pid_of(prev->real_parent);
}
