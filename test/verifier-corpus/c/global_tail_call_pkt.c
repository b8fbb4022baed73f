// SPDX-License-Identifier: GPL-2.0
/* Rejected: a global function that makes a tail call counts as changing packet data (a tail call
 * from a function returns to its caller after the other program ran), so the caller's packet
 * pointers are invalid after calling it (selftest verifier_sock.c, Linux 6.18). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

__attribute__((noinline)) int next_stage(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp, 0);
	return 0;
}

SEC("tc")
int global_tail_call_pkt(struct __sk_buff *skb)
{
	unsigned char *data = (void *)(long)skb->data;
	unsigned char *end = (void *)(long)skb->data_end;
	if (data + 1 > end)
		return 2;
	next_stage(skb);
	return data[0];
}

char LICENSE[] SEC("license") = "GPL";
