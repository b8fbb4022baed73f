/* tp_btf/kfree_skb: a dropped packet's sk_buff sent to a perf buffer with a
 * small header (bpf_skb_output: arg1 a kernel sk_buff pointer). Linux accepts it. */
#include "sock.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} drops SEC(".maps");

SEC("tp_btf/kfree_skb")
int tp_btf_skb_output(unsigned long long *ctx)
{
	struct sk_buff *skb = (void *)ctx[0];
	__u32 len = skb->len;

	return bpf_skb_output(skb, &drops, ((__u64)len << 32) | BPF_F_CURRENT_CPU, &len, sizeof(len)) == 0;
}
