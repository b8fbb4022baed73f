// SPDX-License-Identifier: GPL-2.0
/* A program both verifiers must refuse: a map value used without the NULL
 * check (test/kernel-verifier.test.ts). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int no_null_check(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
