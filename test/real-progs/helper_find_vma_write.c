/* kprobe: a bpf_find_vma callback that writes into the VMA it is given. The
 * VMA is kernel memory a tracing program may only read. Linux rejects it. */
#include "vma.h"

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct vma_ctx *c)
{
	vma->vm_end = 0;
	return 0;
}

SEC("kprobe/do_nanosleep")
int helper_find_vma_write(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct vma_ctx c = {};

	return bpf_find_vma(t, ctx->di, vma_cb, &c, 0);
}
