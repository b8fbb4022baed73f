/* tp_btf/sched_switch: take a reference on the task switched out
 * (bpf_task_acquire: KF_ACQUIRE | KF_RCU | KF_RET_NULL), read it, and give
 * the reference back (bpf_task_release: KF_RELEASE) on every path. */
#include "real.h"

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_switch")
int kfunc_task_acquire(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_struct *t = bpf_task_acquire(prev);
	int pid;

	if (!t)
		return 0;
	pid = t->pid;
	bpf_task_release(t);
	return pid == 1;
}
