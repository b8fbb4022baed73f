/* tp_btf/sched_switch: a global function's __arg_trusted task_struct is a
 * trusted pointer to the kernel's task_struct (btf_prepare_func_args:
 * PTR_TO_BTF_ID | PTR_TRUSTED); the caller passes the tracepoint's trusted
 * `prev`, the callee reads it. Linux accepts it. */
#include "real.h"
#include "global_trusted.h"

__global int pid_of(struct task_struct *t __trusted_arg)
{
	return t->pid;
}

SEC("tp_btf/sched_switch")
int global_trusted_task(unsigned long long *ctx)
{
	return pid_of((void *)ctx[1]) > 1;
}
