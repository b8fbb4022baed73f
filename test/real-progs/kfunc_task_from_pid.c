/* tp_btf/sched_process_fork: look a task up by pid (bpf_task_from_pid:
 * KF_ACQUIRE | KF_RET_NULL, a scalar argument) and release it. */
#include "real.h"

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_process_fork")
int kfunc_task_from_pid(unsigned long long *ctx)
{
	struct task_struct *child = (void *)ctx[1];
	struct task_struct *t = bpf_task_from_pid(child->tgid);
	int same;

	if (!t)
		return 0;
	same = t->real_parent == child->real_parent;
	bpf_task_release(t);
	return same;
}
