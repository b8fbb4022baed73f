#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct val { __u64 hist[32]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct val);} h SEC(".maps");
static __always_inline __u32 log2u(__u64 v) { __u32 r = 0; while (v > 1 && r < 31) { v >>= 1; r++; } return r; }
SEC("kprobe/do_nanosleep") int hist(struct pt_regs *ctx) {
  __u32 k = 0;
  struct val *v = bpf_map_lookup_elem(&h, &k);
  if (!v) return 0;
  __u64 t = bpf_ktime_get_ns();
  __u32 b = log2u(t & 0xffffffff);
  if (b >= 32) return 0;
  v->hist[b]++;
  v->total += 1;
  return 0;
}
static int cb(__u32 i, void *c) { __u64 *s = c; *s += i; return i > 50; }
SEC("tc") int tcprog(struct __sk_buff *skb) {
  __u64 sum = 0;
  bpf_loop(100, cb, &sum, 0);
  void *data = (void*)(long)skb->data, *end = (void*)(long)skb->data_end;
  if (data + 64 > end) return 0;
  __u8 *p = data;
  __u32 acc = 0;
  #pragma unroll
  for (int i = 0; i < 64; i += 4) acc += *(__u32*)(p + i);
  skb->mark = acc ^ (__u32)sum;
  return 0;
}
static __noinline int sub(struct __sk_buff *skb, int x) { return skb->len + x; }
SEC("socket") int sock(struct __sk_buff *skb) {
  int v = sub(skb, 3);
  char buf[32];
  if (bpf_skb_load_bytes(skb, 0, buf, sizeof(buf)) < 0) return 0;
  return v > 100 ? buf[5] : -1;
}
char _license[] SEC("license") = "GPL";
