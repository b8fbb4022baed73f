// SPDX-License-Identifier: GPL-2.0
/* A raw tracepoint program for BPF_PROG_TEST_RUN in both backends
 * (test/kernel-rawtp-run.test.ts): it records its first two arguments and
 * the CPU it ran on, and returns a mix of the arguments. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct rec {
	__u64 a0;
	__u64 a1;
	__u32 cpu;
	__u32 runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rec);
} seen SEC(".maps");

SEC("raw_tp/sys_enter")
int rtp(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 k = 0;
	struct rec *r = bpf_map_lookup_elem(&seen, &k);
	__u64 a0 = ctx->args[0], a1 = ctx->args[1];

	if (!r)
		return 0;
	r->a0 = a0;
	r->a1 = a1;
	r->cpu = bpf_get_smp_processor_id();
	r->runs++;
	return (__u32)(a0 * 3 + a1);
}

char LICENSE[] SEC("license") = "GPL";
