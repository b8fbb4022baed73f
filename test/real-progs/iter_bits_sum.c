/* libbpf's bpf_for_each(bits, ...): the indices of the set bits of a word from the packet
 * (0x8421 when the packet is shorter than 8 bytes), added up. */
#include "real.h"
#include "iter_num.h"

SEC("xdp")
int iter_bits_sum(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 word = 0x8421;
	int bit = 0, sum = 0;

	if (data + 8 <= end)
		word = *(__u64 *)data;
	for_each_bit(bit, &word, 1)
		sum += bit;
	return sum;
}
