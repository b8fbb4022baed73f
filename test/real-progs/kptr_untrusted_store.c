/* A __kptr_untrusted field takes a task pointer (here the trusted tp_btf
 * argument) or NULL by a plain store, and gives back an untrusted pointer
 * that may be read once checked for NULL. */
#include "kptr.h"

SEC("tp_btf/sched_switch")
int kptr_untrusted_store(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	struct task_struct *p;
	struct task_slot *v;
	__u32 key = 0;

	v = bpf_map_lookup_elem(&slots, &key);
	if (!v)
		return 0;
	p = v->last;
	if (p && p->pid == prev->pid)
		v->last = NULL;
	else
		v->last = prev;
	return 0;
}
