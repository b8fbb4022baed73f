/* tp_btf/sched_switch: bpf_task_acquire wants a trusted or RCU-protected
 * task; task_struct.parent is not on the kernel's safe lists, so prev->parent
 * is untrusted and Linux refuses it ("R1 must be a rcu pointer"). */
#include "real.h"

struct task_struct___p {
	struct task_struct *parent;
} __core;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_switch")
int kfunc_untrusted_arg(unsigned long long *ctx)
{
	struct task_struct___p *prev = (void *)ctx[1];
	struct task_struct *t = bpf_task_acquire(prev->parent);

	if (!t)
		return 0;
	bpf_task_release(t);
	return 0;
}
