/* tp_btf/sched_switch: one load of pid through either the kernel's task
 * (PTR_TO_BTF_ID) or a copy kept in a map value, as the compiler merges the
 * two reads into one instruction. Linux refuses it ("same insn cannot be
 * used with different pointers"): the load would have to be a probe load
 * for the kernel object and a plain one for the map value. */
#include "real.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[4096]);
} copies SEC(".maps");

SEC("tp_btf/sched_switch")
int btf_mixed_ptr_load(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	__u32 zero = 0;
	struct task_struct *t = bpf_map_lookup_elem(&copies, &zero);

	if (!t)
		return 0;
	if (bpf_get_prandom_u32() & 1)
		t = prev;
	return t->pid;
}
