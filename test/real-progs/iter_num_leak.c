/* An iterator left without bpf_iter_num_destroy on the early return: "Unreleased reference". */
#include "real.h"
#include "iter_num.h"

SEC("xdp")
int iter_num_leak(struct xdp_md *ctx)
{
	struct bpf_iter_num it;
	int *v, sum = 0;

	bpf_iter_num_new(&it, 0, 10);
	while ((v = bpf_iter_num_next(&it))) {
		if (*v == 5)
			return sum;
		sum += *v;
	}
	bpf_iter_num_destroy(&it);
	return sum;
}
