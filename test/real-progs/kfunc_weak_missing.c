/* kprobe: a weak kfunc the kernel does not have, guarded as
 * bpf_ksym_exists() guards it. libbpf loads 0 for its address and leaves
 * the call with BTF id 0, which the verifier refuses only where the walk
 * reaches it: the guarded call is dead. Linux accepts it. */
#include "real.h"

extern int bpf_tsbpf_no_such_kfunc(int x) __weak __ksym;

SEC("kprobe/do_nanosleep")
int kfunc_weak_missing(struct pt_regs *ctx)
{
	if (!!bpf_tsbpf_no_such_kfunc)
		return bpf_tsbpf_no_such_kfunc(1);
	return 0;
}
