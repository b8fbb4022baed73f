// Rejected by Linux: one path returns without submitting the reservation.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096);} rb SEC(".maps");
SEC("kprobe/do_nanosleep") int bad_leak(void *ctx) {
  __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
  if (!e) return 0;
  *e = bpf_ktime_get_ns();
  if (*e & 1) return 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}
char _license[] SEC("license") = "GPL";
