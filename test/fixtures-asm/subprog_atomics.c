// bpf-to-bpf calls, 32-bit arithmetic, signed division, atomics, byte swaps
// (test/isa-disasm.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

__u64 total = 0;
__u32 small = 0;

static __attribute__((noinline)) int mix(int a, int b) {
  int r = a / (b | 1) + a % 7;
  return r * 3 - (b >> 2);
}

static __attribute__((noinline)) long shuffle(long x, short y) {
  return (x << 5) ^ (long)y ^ (x >> 60);
}

SEC("tc")
int atomics(struct __sk_buff *skb) {
  __u32 len = skb->len;
  __u64 old = __sync_fetch_and_or(&total, len);
  __sync_fetch_and_and(&total, 0xffffffffffULL);
  __sync_fetch_and_xor(&total, old);
  __u64 prev = __sync_val_compare_and_swap(&total, old, len);
  __u32 s = __sync_lock_test_and_set(&small, len);
  __sync_fetch_and_add(&small, 3);
  __u32 w = __sync_fetch_and_add(&small, 5);
  int m = mix((int)len, (int)s);
  long q = shuffle((long)prev, (short)m);
  return bpf_ntohs((__u16)q) + bpf_htonl(w) + (int)(q / -3) + (signed char)len;
}

char LICENSE[] SEC("license") = "GPL";
