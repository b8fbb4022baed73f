// A program using maps, helpers, loops and 64-bit immediates (test/isa-disasm.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

volatile const __u64 magic = 0x1122334455667788ULL;

SEC("xdp")
int count_packets(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  __u32 key = 0;
  if (data + 14 > end) return XDP_PASS;
  key = ((unsigned char *)data)[12] & 63;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) {
    __sync_fetch_and_add(v, 1);
  } else {
    __u64 one = magic ^ (__u64)bpf_ktime_get_ns();
    bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  }
  __u64 acc = 0;
  for (int i = 0; i < 16; i++) acc = acc * 31 + ((signed char *)data)[i & 7];
  return (acc >> 3) % 3 == 7 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
