/* The task of bpf_task_storage_get is a plain, trusted or RCU pointer
 * (or NULL): mm->owner, walked through an untrusted pointer, is none of
 * these. Linux rejects it. */
#include "task_storage.h"

struct mm_struct___own {
	struct task_struct *owner;
} __core;

SEC("tp_btf/sched_switch")
int task_storage_untrusted(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct mm_struct___own *mm = (void *)prev->mm;

	if (!mm)
		return 0;
	return bpf_task_storage_get(&starts, mm->owner, 0, 0) != 0;
}
