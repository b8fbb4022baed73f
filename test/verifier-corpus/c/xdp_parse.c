#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u32); __type(value, __u64);} counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096);} events SEC(".maps");
struct ev { __u32 saddr, daddr; __u16 sport, dport; __u8 payload[16]; };
SEC("xdp") int parse(struct xdp_md *ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void*)(eth + 1) > end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void*)(eth + 1);
  if ((void*)(ip + 1) > end) return XDP_PASS;
  __u32 ihl = ip->ihl * 4;
  if (ihl < sizeof(*ip)) return XDP_DROP;
  if (ip->protocol != IPPROTO_TCP) return XDP_PASS;
  struct tcphdr *tcp = (void*)ip + ihl;
  if ((void*)(tcp + 1) > end) return XDP_PASS;
  __u32 key = ip->saddr;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1);
  else { __u64 one = 1; bpf_map_update_elem(&counts, &key, &one, BPF_ANY); }
  struct ev *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  e->saddr = ip->saddr; e->daddr = ip->daddr; e->sport = tcp->source; e->dport = tcp->dest;
  unsigned char *p = (void*)(tcp + 1);
  for (int i = 0; i < 16; i++) {
    if ((void*)(p + i + 1) > end) { e->payload[i] = 0; continue; }
    e->payload[i] = p[i];
  }
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}
char _license[] SEC("license") = "GPL";
