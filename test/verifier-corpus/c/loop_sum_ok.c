// SPDX-License-Identifier: GPL-2.0
/* Accepted: a bounded loop over the first bytes of the packet (each byte
 * bounds-checked) and a bpf_loop callback summing into a context struct. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sum_ctx {
	__u64 sum;
};

static long add_index(__u32 i, void *c)
{
	((struct sum_ctx *)c)->sum += i;
	return 0;
}

SEC("tc")
int loop_sum_ok(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct sum_ctx c = { 0 };
	__u8 *p = data;
	for (int i = 0; i < 32; i++) {
		if ((void *)(p + i + 1) > data_end)
			break;
		c.sum += p[i];
	}
	bpf_loop(8, add_index, &c, 0);
	skb->mark = (__u32)c.sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
