/* A loop written with an open-coded number iterator (libbpf's bpf_for): the packet's first
 * byte says how many of the global values to add; the index is bounded before use. */
#include "real.h"
#include "iter_num.h"

__u32 values[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768 };

SEC("xdp")
int iter_num_sum(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	int n = 16, i = 0;
	__u32 sum = 0;

	if (p + 1 <= end)
		n = p[0];
	for_range(i, 0, n) {
		if ((unsigned int)i >= 16)
			break;
		sum += values[i];
	}
	return sum;
}
