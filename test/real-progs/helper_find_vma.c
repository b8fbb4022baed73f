/* kprobe: the VMA holding a user address of the current task, found with
 * bpf_find_vma; the callback reads the VMA (a kernel object) and writes the
 * caller's stack through its context. Linux accepts it. */
#include "vma.h"

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	c->start = vma->vm_start;
	return 0;
}

SEC("kprobe/do_nanosleep")
int helper_find_vma(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vma_ctx c = {};

	bpf_find_vma(t, ctx->di, vma_cb, &c, 0);
	return c.start != 0;
}
