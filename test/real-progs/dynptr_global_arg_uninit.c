/* xdp: a global function that takes a struct bpf_dynptr * is given the
 * address of stack memory that holds no dynptr. Linux rejects it:
 * "Expected an initialized dynptr as arg #0". */
#include "real.h"

struct bpf_dynptr;

__attribute__((noinline)) int first_byte(struct bpf_dynptr *p)
{
	__u8 b = 0;

	bpf_dynptr_read(&b, 1, p, 0, 0);
	return b;
}

SEC("xdp")
int dynptr_global_arg_uninit(struct xdp_md *ctx)
{
	struct bpf_dynptr d;

	__builtin_memset(&d, 0, sizeof(d));
	return first_byte(&d) ? XDP_PASS : XDP_DROP;
}
