/* The value of an enumerator the kernel does not have, unguarded: poisoned and reached. */
#include "real.h"

enum bpf_func_id___y {
	BPF_FUNC_no_such_helper___y = 2,
};

SEC("kprobe/do_nanosleep")
int core_enumval_unguarded(struct pt_regs *ctx)
{
	return bpf_core_enum_value(enum bpf_func_id___y, BPF_FUNC_no_such_helper___y) == 2;
}
