/* A kprobe program may not use a map whose value holds a lock
 * (check_map_prog_compatibility), even for a plain lookup. Linux rejects it. */
#include "spin_lock.h"

SEC("kprobe/do_nanosleep")
int spin_lock_kprobe(struct pt_regs *ctx)
{
	__u32 key = 0;
	struct counter *v = bpf_map_lookup_elem(&counters, &key);

	return v ? v->packets != 0 : 0;
}
