// SPDX-License-Identifier: GPL-2.0
/* A tc program that rewrites packets (fixtures/tc_rewrite.c's rewriter):
 * the IPv4 TTL becomes new_ttl and UDP destination port 53 becomes 5353,
 * with the IP and UDP checksums fixed by bpf_l3_csum_replace /
 * bpf_l4_csum_replace. Two capture programs, attached through tcx before
 * and after it on the same hook, copy each IPv4 UDP packet into a ring
 * buffer, so user space sees what the rewriter got and what it sent on.
 * Each returns TCX_NEXT (TC_ACT_UNSPEC): on a tcx hook a program's verdict
 * ends the chain unless it is TCX_NEXT, which hands the packet to the next
 * program (and, after the last one, lets it pass). */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_OFF ETH_HLEN
#define TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define UDP_OFF (IP_OFF + sizeof(struct iphdr))
#define UDP_DPORT_OFF (UDP_OFF + offsetof(struct udphdr, dest))
#define UDP_CSUM_OFF (UDP_OFF + offsetof(struct udphdr, check))
#define SNAP 256
#define TCX_NEXT TC_ACT_UNSPEC

const volatile __u8 new_ttl = 42;

struct packet {
	__u32 stage; /* 0: before the rewriter, 1: after it */
	__u32 len;   /* the packet's length (at most SNAP bytes are copied) */
	__u8 data[SNAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} packets SEC(".maps");

SEC("tc")
int tc_rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + IP_OFF;
	struct udphdr *udp = data + UDP_OFF;
	__u16 old_ttl_word, new_ttl_word;
	__u16 old_port, new_port;

	if ((void *)(udp + 1) > data_end)
		return TCX_NEXT;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return TCX_NEXT;

	/* TTL shares a 16-bit checksum word with the protocol byte. */
	old_ttl_word = *(__u16 *)&ip->ttl;
	((__u8 *)&new_ttl_word)[0] = new_ttl;
	((__u8 *)&new_ttl_word)[1] = ip->protocol;
	bpf_skb_store_bytes(skb, TTL_OFF, &new_ttl_word, sizeof(new_ttl_word), 0);
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_ttl_word, new_ttl_word, sizeof(__u16));

	/* the helpers may have moved the packet: reload and recheck */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	ip = data + IP_OFF;
	udp = data + UDP_OFF;
	if ((void *)(udp + 1) > data_end)
		return TC_ACT_SHOT;
	if (ip->protocol != IPPROTO_UDP || udp->dest != bpf_htons(53))
		return TCX_NEXT;

	old_port = udp->dest;
	new_port = bpf_htons(5353);
	bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_port, new_port, sizeof(__u16));
	bpf_skb_store_bytes(skb, UDP_DPORT_OFF, &new_port, sizeof(new_port), 0);
	return TCX_NEXT;
}

static __always_inline int capture(struct __sk_buff *skb, __u32 stage)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + IP_OFF;
	struct packet *p;
	__u32 n = skb->len;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return TCX_NEXT;
	p = bpf_ringbuf_reserve(&packets, sizeof(*p), 0);
	if (!p)
		return TCX_NEXT;
	p->stage = stage;
	p->len = n;
	if (n > SNAP)
		n = SNAP;
	if (n < 1 || bpf_skb_load_bytes(skb, 0, p->data, n) < 0) {
		bpf_ringbuf_discard(p, 0);
		return TCX_NEXT;
	}
	bpf_ringbuf_submit(p, 0);
	return TCX_NEXT;
}

SEC("tc")
int capture_before(struct __sk_buff *skb)
{
	return capture(skb, 0);
}

SEC("tc")
int capture_after(struct __sk_buff *skb)
{
	return capture(skb, 1);
}

char LICENSE[] SEC("license") = "GPL";
