/* tp_btf/sched_switch: bpf_task_pt_regs's pt_regs, a plain kernel pointer
 * (PTR_TO_BTF_ID, neither trusted nor referenced), passed for an
 * __arg_trusted struct pt_regs. Linux 6.12's check_reg_type took it;
 * Linux 6.18 refuses it ("R1 must be referenced or trusted"). */
#include "real.h"
#include "global_trusted.h"

__global int di_of(struct pt_regs *r __trusted_arg)
{
	return r->di > 0;
}

SEC("tp_btf/sched_switch")
int global_trusted_plain(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return di_of((void *)bpf_task_pt_regs(t));
}
