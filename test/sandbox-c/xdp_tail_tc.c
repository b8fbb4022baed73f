// SPDX-License-Identifier: GPL-2.0
/* Issue 11, finding 1: an XDP program tail-calls, through a statically
 * initialised prog array, into a tc program. The tc program's __sk_buff
 * stores (priority at +32, cb[] at +48..68, tc_classid at +72) would land
 * past the 24-byte xdp_md it is given. Linux refuses the object: the array
 * is owned by the XDP program that uses it (bpf_check_tail_call at its
 * load), and the slot initialisation with the tc program fails with EINVAL
 * (__bpf_prog_map_compatible). tsbpf must refuse it the same way. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int tc_prog(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = {
		[0] = (void *)&tc_prog,
	},
};

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	skb->priority = 0x41414141;
	skb->cb[0] = 0x42424242;
	skb->cb[4] = 0x43434343;
	skb->tc_classid = 0x44444444;
	return 0;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
