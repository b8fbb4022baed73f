// SPDX-License-Identifier: GPL-2.0
/* Accepted: inside the global function itself, verified on its own, a failed tail call leaves its
 * packet pointers valid (a successful one never comes back to it); its caller reloads them. */
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
	unsigned char *data = (void *)(long)skb->data;
	unsigned char *end = (void *)(long)skb->data_end;
	if (data + 1 > end)
		return 0;
	bpf_tail_call(skb, &jmp, 0);
	return data[0];
}

SEC("tc")
int global_tail_call_own_pkt(struct __sk_buff *skb)
{
	unsigned char *data, *end;

	next_stage(skb);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + 1 > end)
		return 2;
	return data[0];
}

char LICENSE[] SEC("license") = "GPL";
