// worker_count.c: the program of docs/workers.md, run on four worker threads by workers.mjs
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
         __type(key, __u32); __type(value, __u64); } hits SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1);
         __type(key, __u32); __type(value, __u64); } per_cpu SEC(".maps");

SEC("xdp")
int count(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&hits, &key);
  if (v) __sync_fetch_and_add(v, 1);
  __u64 *c = bpf_map_lookup_elem(&per_cpu, &key);
  if (c) (*c)++;
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
