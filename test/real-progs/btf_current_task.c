/* bpf_get_current_task_btf() returns a trusted struct task_struct pointer
 * that kprobe programs read directly. */
#include "real.h"

SEC("kprobe/do_nanosleep")
int btf_current_task(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->tgid == t->real_parent->tgid;
}
