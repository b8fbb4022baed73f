/* xdp: a global function takes a struct bpf_dynptr * (btf_prepare_func_args:
 * ARG_PTR_TO_DYNPTR | MEM_RDONLY); the caller passes one bpf_dynptr_from_mem
 * initialised over a global buffer, the function reads through it. Linux
 * accepts it. */
#include "real.h"

struct bpf_dynptr;

__attribute__((noinline)) int first_byte(struct bpf_dynptr *p)
{
	__u8 b = 0;

	bpf_dynptr_read(&b, 1, p, 0, 0);
	return b;
}

char buf[8] = { 7 };

SEC("xdp")
int dynptr_global_arg(struct xdp_md *ctx)
{
	struct bpf_dynptr d;

	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d);
	return first_byte(&d) == 7 ? XDP_PASS : XDP_DROP;
}
