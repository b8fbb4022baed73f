// Rejected by Linux: the TCP header is read before it is checked against data_end.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int bad_bounds(struct xdp_md *ctx) {
  void *data = (void*)(long)ctx->data, *end = (void*)(long)ctx->data_end;
  struct iphdr *ip = data + sizeof(struct ethhdr);
  if ((void*)(ip + 1) > end) return XDP_PASS;
  struct tcphdr *tcp = (void*)(ip + 1);
  return tcp->dest == 80 ? XDP_DROP : XDP_PASS;
}
char _license[] SEC("license") = "GPL";
