// SPDX-License-Identifier: GPL-2.0
/* Helper probes for the differential suite (test/helpers-kernel.test.ts):
 * each program reads its parameters from the packet after the Ethernet
 * header, calls helpers with them, and writes the results over the start
 * of the packet, so one `bpftool prog run` shows everything to compare. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct adjust_params {
	__s32 meta, head, tail;
};

SEC("xdp")
int adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct adjust_params p;
	__s32 r[4];

	if (data + 14 + sizeof(p) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&p, data + 14, sizeof(p));
	r[0] = bpf_xdp_adjust_meta(ctx, p.meta);
	r[1] = bpf_xdp_adjust_head(ctx, p.head);
	r[2] = bpf_xdp_adjust_tail(ctx, p.tail);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	r[3] = (__s32)(end - data);
	if (data + sizeof(r) > end)
		return XDP_DROP;
	__builtin_memcpy(data, r, sizeof(r));
	return XDP_PASS;
}

struct csum_params {
	__u32 off, from, to, flags, seed;
	__u8 from_buf[8];
	__u8 to_buf[12];
};

SEC("tc")
int csum(struct __sk_buff *skb)
{
	struct csum_params p;
	__s64 r[6];

	if (bpf_skb_load_bytes(skb, 14, &p, sizeof(p)))
		return TC_ACT_SHOT;
	r[0] = bpf_l3_csum_replace(skb, p.off, p.from, p.to, p.flags & 0xff);
	r[1] = bpf_l4_csum_replace(skb, p.off ^ 2, p.from, p.to, p.flags >> 8);
	r[2] = bpf_csum_diff((void *)p.from_buf, 8, (void *)p.to_buf, 12, p.seed);
	r[3] = bpf_csum_diff(0, 0, (void *)p.to_buf, 12, p.seed);
	r[4] = bpf_csum_diff((void *)p.from_buf, 4, 0, 0, 0);
	r[5] = bpf_csum_diff((void *)p.from_buf, 8, (void *)p.to_buf, 8, 0);
	bpf_skb_store_bytes(skb, 64, r, sizeof(r), 0);
	return TC_ACT_OK;
}

struct bytes_params {
	__u32 load_off, store_off, store_flags;
	__u8 buf[8];
};

SEC("tc")
int bytes(struct __sk_buff *skb)
{
	struct bytes_params p;
	__u8 got[8];
	__s64 r[2];

	if (bpf_skb_load_bytes(skb, 14, &p, sizeof(p)))
		return TC_ACT_SHOT;
	r[0] = bpf_skb_load_bytes(skb, p.load_off, got, sizeof(got));
	r[1] = bpf_skb_store_bytes(skb, p.store_off, p.buf, sizeof(p.buf), p.store_flags);
	bpf_skb_store_bytes(skb, 40, got, sizeof(got), 0);
	bpf_skb_store_bytes(skb, 48, r, sizeof(r), 0);
	return TC_ACT_OK;
}

const char fmt0[] = "%d %u %x %X %i|%5d|%-5d|%05u|%+d|% d";
const char fmt1[] = "%lld %llu %llx %ld %lu %lx %c%c %%";
const char fmt2[] = "%pI4 %pi4 %pI6";
const char hello[] = "hello";

struct fmt_params {
	__u32 which, pad;
	__u64 args[10];
};

SEC("xdp")
int fmt(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct fmt_params p;
	char out[120];
	__s64 n;

	if (data + 14 + sizeof(p) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&p, data + 14, sizeof(p));
	__builtin_memset(out, 0, sizeof(out));
	if (p.which == 0)
		n = bpf_snprintf(out, sizeof(out), fmt0, p.args, sizeof(p.args));
	else if (p.which == 1)
		n = bpf_snprintf(out, sizeof(out), fmt1, p.args, 64);
	else if (p.which == 2) {
		/* the IP conversions read through pointers: give them the packet's own bytes */
		__u64 a[3] = { (__u64)(long)(data + 14 + 8), (__u64)(long)(data + 14 + 12), (__u64)(long)(data + 14 + 16) };
		n = bpf_snprintf(out, sizeof(out), fmt2, a, sizeof(a));
	} else
		n = bpf_snprintf(out, p.which & 0xf, fmt0, p.args, sizeof(p.args));
	if (data + 136 > end)
		return XDP_DROP;
	__builtin_memcpy(data, &n, 8);
	__builtin_memcpy(data + 8, out, sizeof(out));
	return XDP_PASS;
}

static long count_cb(__u64 i, void *ctx)
{
	__u64 *c = ctx;

	*c += i;
	return *c > 1000;
}

struct misc_params {
	__u32 loops, loop_flags, addr, pad;
	char str[8];
};

SEC("xdp")
int misc(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct misc_params p;
	__s64 r[6];
	__u64 sum = 0;
	char buf[16];

	if (data + 14 + sizeof(p) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&p, data + 14, sizeof(p));
	r[0] = bpf_loop(p.loops, count_cb, &sum, p.loop_flags);
	r[1] = sum;
	r[2] = bpf_strncmp(p.str, sizeof(p.str), hello);
	__builtin_memset(buf, 0x55, sizeof(buf));
	r[3] = bpf_probe_read_kernel(buf, 8, (void *)(long)(p.addr & 0xfff));
	r[4] = bpf_probe_read_kernel_str(buf + 8, 8, (void *)(long)(p.addr & 0xfff));
	r[5] = *(__u64 *)buf | *(__u64 *)(buf + 8);
	if (data + sizeof(r) > end)
		return XDP_DROP;
	__builtin_memcpy(data, r, sizeof(r));
	return XDP_PASS;
}

/* Every __sk_buff field a tc program may read, written into the packet
 * after the Ethernet header (the context the test run builds). */
SEC("tc")
int skbfields(struct __sk_buff *skb)
{
	__u32 f[24];
	__u64 t[2];

	f[0] = skb->len;
	f[1] = skb->pkt_type;
	f[2] = skb->mark;
	f[3] = skb->queue_mapping;
	f[4] = skb->protocol;
	f[5] = skb->vlan_present;
	f[6] = skb->vlan_tci;
	f[7] = skb->vlan_proto;
	f[8] = skb->priority;
	f[9] = skb->ingress_ifindex;
	f[10] = skb->ifindex;
	f[11] = skb->tc_index;
	f[12] = skb->cb[0];
	f[13] = skb->cb[4];
	f[14] = skb->hash;
	f[15] = skb->tc_classid;
	f[16] = skb->napi_id;
	f[17] = skb->wire_len;
	f[18] = skb->gso_segs;
	f[19] = skb->gso_size;
	f[20] = skb->data_end - skb->data;
	f[21] = skb->data - skb->data_meta;
	f[22] = skb->tstamp_type;
	f[23] = 0x7e57;
	t[0] = skb->tstamp;
	t[1] = skb->hwtstamp;
	/* and change what ctx_out reports */
	skb->mark = skb->mark * 3 + 1;
	skb->priority += 2;
	skb->cb[1] = 0xc0ffee;
	skb->tstamp = 0;
	bpf_skb_store_bytes(skb, 14, f, sizeof(f), 0);
	bpf_skb_store_bytes(skb, 14 + sizeof(f), t, sizeof(t), 0);
	return TC_ACT_OK;
}

/* The struct xdp_md fields, returned packed in r0. */
SEC("xdp")
int xdpfields(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 meta = ctx->data - ctx->data_meta;

	return (len & 0xffff) | (meta & 0xff) << 16 | (ctx->ingress_ifindex & 0xf) << 24 | (ctx->rx_queue_index & 0xf) << 28;
}

struct redir_params {
	__u32 ifindex, pad;
	__u64 flags;
};

SEC("xdp")
int xdpredir(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct redir_params p;

	if (data + 14 + sizeof(p) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&p, data + 14, sizeof(p));
	return bpf_redirect(p.ifindex, p.flags);
}

SEC("tc")
int tcredir(struct __sk_buff *skb)
{
	struct redir_params p;

	if (bpf_skb_load_bytes(skb, 14, &p, sizeof(p)))
		return TC_ACT_UNSPEC;
	return bpf_redirect(p.ifindex, p.flags);
}

struct frags_params {
	__s32 tail;
	__u32 load_off, store_off;
	__u8 buf[8];
};

/* Multi-buffer frames: tail adjustment, length and byte access across fragments. */
SEC("xdp.frags")
int frags(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct frags_params p;
	__s64 r[4];
	__u8 got[8] = {};

	if (data + 14 + sizeof(p) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&p, data + 14, sizeof(p));
	r[0] = bpf_xdp_adjust_tail(ctx, p.tail);
	r[1] = bpf_xdp_get_buff_len(ctx);
	r[2] = bpf_xdp_load_bytes(ctx, p.load_off, got, sizeof(got));
	r[3] = bpf_xdp_store_bytes(ctx, p.store_off, p.buf, sizeof(p.buf));
	data = (void *)(long)ctx->data;
	if (data + sizeof(r) + sizeof(got) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	__builtin_memcpy(data, r, sizeof(r));
	__builtin_memcpy(data + sizeof(r), got, sizeof(got));
	return XDP_PASS;
}

/* A program that tail-calls itself until the kernel's limit stops it: the
 * first byte of the packet counts the executions (1 + MAX_TAIL_CALL_CNT). */
int tailself(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int (void *));
} self_table SEC(".maps") = {
	.values = { [0] = (void *)&tailself },
};

SEC("xdp")
int tailself(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	data[0]++;
	bpf_tail_call(ctx, &self_table, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
