/* kprobe: bpf_find_vma on the parent task read through the current one:
 * task_struct.real_parent is an RCU-protected field, and a kprobe runs in an
 * RCU read section, so the pointer is rcu_ptr_task_struct, which the helper
 * takes (btf_ptr_types). Linux accepts it. */
#include "vma.h"

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	return 0;
}

SEC("kprobe/do_nanosleep")
int helper_find_vma_rcu(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vma_ctx c = {};

	return bpf_find_vma(t->real_parent, ctx->di, vma_cb, &c, 0);
}
