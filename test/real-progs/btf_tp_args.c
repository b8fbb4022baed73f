/* tp_btf/sched_switch receives trusted pointers to the two tasks
 * (PTR_TO_BTF_ID): fields are read directly, checked against the kernel's
 * struct task_struct. Linux accepts it. */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_tp_args(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_struct *next = (void *)ctx[2];

	return prev->pid + next->tgid + next->comm[0];
}
