// Conditional jumps of every kind, a switch and unsigned/signed compares
// (test/isa-disasm.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int branches(struct __sk_buff *skb) {
  long a = skb->len, b = skb->protocol;
  int c = skb->mark, d = skb->priority;
  unsigned u = skb->hash;
  int r = 0;
  if (a > 100) r += 1;
  if (a < -5) r += 2;
  if ((unsigned long)a >= (unsigned long)b) r += 4;
  if (c <= d) r ^= 8;
  if (u & 0x40) r |= 16;
  if (c != 3 && d == 9) r -= 32;
  if ((int)u < c) r += 64;
  switch (r & 7) {
  case 0: r *= 3; break;
  case 1: r += 11; break;
  case 2: r -= 7; break;
  case 3: r <<= 2; break;
  case 5: r = -r; break;
  default: r >>= 1;
  }
  return r;
}

char LICENSE[] SEC("license") = "GPL";
