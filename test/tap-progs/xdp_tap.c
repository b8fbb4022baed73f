// XDP programs for test/hooks-tap.test.ts and test/maps-devmap.test.ts.
// Built at test time: clang-19 -O2 -g -target bpf -c xdp_tap.c
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(key_size, 4);
	__uint(value_size, 4);
	__uint(max_entries, 4);
} tx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(key_size, 4);
	__uint(value_size, 8);
	__uint(max_entries, 4);
} tx_hash SEC(".maps");

/* cfg[0]: ifindex for bpf_redirect; */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 4);
} cfg SEC(".maps");

/* frames seen per UDP destination port (low byte) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} seen SEC(".maps");

static __always_inline struct udphdr *udp_of(struct xdp_md *ctx, struct ethhdr **eth, struct iphdr **ip)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *e = data;
	if ((void *)(e + 1) > end || e->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *i = (void *)(e + 1);
	if ((void *)(i + 1) > end || i->ihl != 5 || i->protocol != 17)
		return 0;
	struct udphdr *u = (void *)(i + 1);
	if ((void *)(u + 1) > end)
		return 0;
	*eth = e;
	*ip = i;
	return u;
}

static __always_inline void count(struct udphdr *u)
{
	__u32 k = bpf_ntohs(u->dest) & 0xff;
	__u64 *v = bpf_map_lookup_elem(&seen, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp") int xdp_pass(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (u)
		count(u);
	return XDP_PASS;
}

/* UDP drops; the rest passes */
SEC("xdp") int xdp_drop_udp(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (!u)
		return XDP_PASS;
	count(u);
	return XDP_DROP;
}

/* UDP echo: swap MACs, addresses and ports (the checksums stay valid) and send back */
SEC("xdp") int xdp_echo(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (!u)
		return XDP_PASS;
	count(u);
	unsigned char mac[ETH_ALEN];
	__builtin_memcpy(mac, e->h_dest, ETH_ALEN);
	__builtin_memcpy(e->h_dest, e->h_source, ETH_ALEN);
	__builtin_memcpy(e->h_source, mac, ETH_ALEN);
	__be32 a = i->saddr; i->saddr = i->daddr; i->daddr = a;
	__be16 p = u->source; u->source = u->dest; u->dest = p;
	return XDP_TX;
}

/* UDP to x.x.x.3 goes through tx_port[0]; to x.x.x.4 through bpf_redirect(cfg[0]); the rest passes */
SEC("xdp") int xdp_router(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (!u)
		return XDP_PASS;
	count(u);
	__u8 last = bpf_ntohl(i->daddr) & 0xff;
	if (last == 3)
		return bpf_redirect_map(&tx_port, 0, XDP_DROP);
	if (last == 4) {
		__u32 k = 0;
		__u32 *ifi = bpf_map_lookup_elem(&cfg, &k);
		return ifi ? bpf_redirect(*ifi, 0) : XDP_ABORTED;
	}
	return XDP_PASS;
}

/* UDP to port 9016 gets the verdict in cfg[1] (any value, valid or not); the rest passes */
SEC("xdp") int xdp_verdict(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (!u || u->dest != bpf_htons(9016))
		return XDP_PASS;
	count(u);
	__u32 k = 1;
	__u32 *v = bpf_map_lookup_elem(&cfg, &k);
	return v ? *v : XDP_PASS;
}

/* every device of tx_port but the one the frame came in on */
SEC("xdp") int xdp_broadcast(struct xdp_md *ctx)
{
	struct ethhdr *e; struct iphdr *i;
	struct udphdr *u = udp_of(ctx, &e, &i);
	if (!u)
		return XDP_PASS;
	count(u);
	return bpf_redirect_map(&tx_port, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
}

/* bpf_redirect_map semantics: packet bytes 14..21 = key (u64 LE), 22..29 = flags (u64 LE), 30 = which map */
SEC("xdp") int redirect_args(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 31 > end)
		return 0xbad;
	__u64 key, flags;
	__builtin_memcpy(&key, data + 14, 8);
	__builtin_memcpy(&flags, data + 22, 8);
	if (*(__u8 *)(data + 30))
		return bpf_redirect_map(&tx_hash, key, flags);
	return bpf_redirect_map(&tx_port, key, flags);
}

/* what a program sees of a devmap entry: ifindex, or 0xdead when absent */
SEC("xdp") int devmap_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (data + 19 > end)
		return 0xbad;
	__u32 key;
	__builtin_memcpy(&key, data + 14, 4);
	struct bpf_devmap_val *v = *(__u8 *)(data + 18) ? bpf_map_lookup_elem(&tx_hash, &key) : bpf_map_lookup_elem(&tx_port, &key);
	return v ? v->ifindex : 0xdead;
}

char LICENSE[] SEC("license") = "GPL";
