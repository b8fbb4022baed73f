/* In a sleepable program outside an RCU read section a referenced kptr
 * loads untrusted: bpf_task_acquire (KF_RCU) refuses it. */
#include "kptr.h"

SEC("syscall")
int kptr_load_sleepable(void *ctx)
{
	struct task_struct *p, *t;
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	p = v->task;
	if (!p)
		return 0;
	t = bpf_task_acquire(p);
	if (t)
		bpf_task_release(t);
	return 0;
}
