// SPDX-License-Identifier: MIT
/*
 * A socket filter that records what it sees of each datagram (test/hooks-sockfilter-kernel.test.ts
 * runs it on a real UDP socket with SO_ATTACH_BPF and on tsbpf's socketFilter hook, and compares):
 * the readable __sk_buff fields, the first bytes through bpf_skb_load_bytes and LD_ABS, and its
 * verdict, chosen by the first payload byte:
 *   '#'  drop (return 0)
 *   '0'..'9'  return that digit (below the 8-byte cap: the application gets an empty datagram)
 *   'c'  return 8 + 4 (the application gets 4 payload bytes)
 *   'w'  return skb->len + 100 (larger than the packet: kept whole)
 *   other  return skb->len
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

struct seen {
	__u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
	__u32 priority, ingress_ifindex, ifindex, tc_index, cb0, hash, napi_id, gso_segs, gso_size;
	__u32 abs_word0, abs_half4, abs_byte8, ret;
	__u8 head[8];
	__s32 load_rc, past_rc;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} count SEC(".maps");

SEC("socket")
int fields(struct __sk_buff *skb)
{
	__u32 zero = 0, idx, ret;
	__u32 *n = bpf_map_lookup_elem(&count, &zero);
	struct seen *s;
	__u8 first = 0, past[4];

	if (!n)
		return 0;
	idx = *n;
	*n = idx + 1;
	if (idx >= 16)
		return skb->len;
	s = bpf_map_lookup_elem(&seen, &idx);
	if (!s)
		return 0;
	s->len = skb->len;
	s->pkt_type = skb->pkt_type;
	s->mark = skb->mark;
	s->queue_mapping = skb->queue_mapping;
	s->protocol = skb->protocol;
	s->vlan_present = skb->vlan_present;
	s->vlan_tci = skb->vlan_tci;
	s->vlan_proto = skb->vlan_proto;
	s->priority = skb->priority;
	s->ingress_ifindex = skb->ingress_ifindex;
	s->ifindex = skb->ifindex;
	s->tc_index = skb->tc_index;
	s->cb0 = skb->cb[0];
	s->hash = skb->hash;
	s->napi_id = skb->napi_id;
	s->gso_segs = skb->gso_segs;
	s->gso_size = skb->gso_size;
	s->abs_word0 = load_word(skb, 0);
	s->abs_half4 = load_half(skb, 4);
	s->load_rc = bpf_skb_load_bytes(skb, 0, s->head, sizeof(s->head));
	s->past_rc = bpf_skb_load_bytes(skb, skb->len - 2, past, 4);
	if (skb->len > 8) {
		s->abs_byte8 = load_byte(skb, 8);
		bpf_skb_load_bytes(skb, 8, &first, 1);
	}
	if (first == '#')
		ret = 0;
	else if (first >= '0' && first <= '9')
		ret = first - '0';
	else if (first == 'c')
		ret = 8 + 4;
	else if (first == 'w')
		ret = skb->len + 100;
	else
		ret = skb->len;
	s->ret = ret;
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
