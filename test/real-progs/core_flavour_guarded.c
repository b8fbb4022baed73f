/* The task's state read through flavoured types: `state` (before 5.14) or
 * `__state`, whichever the kernel has; the other branch is dead and its
 * relocation, which cannot be resolved, is poisoned. Linux accepts it. */
#include "real.h"

SEC("kprobe/do_nanosleep")
int core_flavour_guarded(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	long state;

	if (bpf_core_field_exists(struct task_struct___x, __state))
		state = BPF_CORE_READ((struct task_struct___x *)t, __state);
	else
		state = BPF_CORE_READ((struct task_struct___o *)t, state);
	return state & 1;
}
