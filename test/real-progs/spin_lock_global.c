/* A lock in global data (.bss): libbpf makes the section an array map whose
 * value type is the DATASEC, and Linux finds the lock among its variables.
 * The counter beside it is updated under it. Linux accepts it. */
#include "real.h"

struct bpf_spin_lock glock;
__u64 gcount;

SEC("tc")
int spin_lock_global(struct __sk_buff *skb)
{
	bpf_spin_lock(&glock);
	gcount += skb->len;
	bpf_spin_unlock(&glock);
	return 0;
}
