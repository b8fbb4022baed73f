/* Enumerators that exist and one that does not: bpf_core_enum_value_exists
 * guards the read of the missing one's value, which is poisoned. */
#include "real.h"

enum bpf_func_id___x {
	BPF_FUNC_get_current_task_btf___x = 1,
	BPF_FUNC_no_such_helper___x = 2,
};

SEC("kprobe/do_nanosleep")
int core_enumval(struct pt_regs *ctx)
{
	long v = bpf_core_enum_value(enum bpf_func_id___x, BPF_FUNC_get_current_task_btf___x);

	if (bpf_core_enum_value_exists(enum bpf_func_id___x, BPF_FUNC_no_such_helper___x))
		v += bpf_core_enum_value(enum bpf_func_id___x, BPF_FUNC_no_such_helper___x);
	return v == 158;
}
