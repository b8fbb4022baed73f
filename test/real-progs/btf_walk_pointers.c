/* tp_btf/sched_process_fork: a pointer field read whole is another
 * PTR_TO_BTF_ID (real_parent keeps RCU trust, mm is untrusted), walked
 * further and compared with NULL (task->real_parent->mm->total_vm). */
#include "real.h"

SEC("tp_btf/sched_process_fork")
int btf_walk_pointers(unsigned long long *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	struct mm_struct *mm = p->real_parent->mm;

	return mm ? mm->total_vm > 10 : 0;
}
