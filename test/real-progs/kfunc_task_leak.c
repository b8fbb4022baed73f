/* tp_btf/sched_switch: a reference taken with bpf_task_acquire and not
 * released on the path that returns early: Linux refuses the program
 * ("Unreleased reference"). */
#include "real.h"

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_switch")
int kfunc_task_leak(unsigned long long *ctx)
{
	struct task_struct *t = bpf_task_acquire((void *)ctx[1]);

	if (!t)
		return 0;
	if (t->pid == 1)
		return 1;
	bpf_task_release(t);
	return 0;
}
