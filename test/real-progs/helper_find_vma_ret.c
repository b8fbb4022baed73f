/* kprobe: a bpf_find_vma callback that may return 2. Linux rejects it: a
 * callback returns 0 or 1. */
#include "vma.h"

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	return vma->vm_start & 2;
}

SEC("kprobe/do_nanosleep")
int helper_find_vma_ret(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vma_ctx c = {};

	return bpf_find_vma(t, ctx->di, vma_cb, &c, 0);
}
