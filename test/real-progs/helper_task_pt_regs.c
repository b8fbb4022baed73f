/* kprobe: the current task's user registers through bpf_task_pt_regs
 * (RET_PTR_TO_BTF_ID struct pt_regs, never NULL), read directly as a
 * kernel object. Linux accepts it. */
#include "real.h"

SEC("kprobe/do_nanosleep")
int helper_task_pt_regs(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t);

	return regs->di == 0;
}
