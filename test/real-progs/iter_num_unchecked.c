/* The same loop without the bound: the verifier cannot know the iterator's range, so the
 * index read from bpf_iter_num_next may be anything. */
#include "real.h"
#include "iter_num.h"

__u32 values[16];

SEC("xdp")
int iter_num_unchecked(struct xdp_md *ctx)
{
	int i = 0;
	__u32 sum = 0;

	for_range(i, 0, 16)
		sum += values[i];
	return sum;
}
