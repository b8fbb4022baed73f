/* A type this kernel does not have, guarded by bpf_core_type_exists: its
 * size reads as 0 and the field read in the dead branch is poisoned. Then a
 * flavour of a type the kernel has (cfs_rq), whose field it no longer has:
 * type_exists is 1, so the poisoned read is reached and Linux rejects it. */
#include "real.h"

struct cfs_rq___pre_v614 {
	unsigned long runnable_weight;
} __core;

struct no_such_type___x {
	int field;
} __core;

SEC("kprobe/do_nanosleep")
int core_type_guarded(struct pt_regs *ctx)
{
	struct no_such_type___x *p = (void *)bpf_get_current_task();
	int sz = bpf_core_type_size(struct no_such_type___x);

	if (bpf_core_type_exists(struct no_such_type___x))
		return BPF_CORE_READ(p, field) + sz;
	if (!bpf_core_type_exists(struct cfs_rq___pre_v614))
		return sz;
	return BPF_CORE_READ((struct cfs_rq___pre_v614 *)p, runnable_weight) & 1;
}
