// The legacy packet loads (LD_ABS / LD_IND) through LLVM's intrinsics, as old
// socket filters used them (test/isa-disasm.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int legacy(struct __sk_buff *skb) {
  unsigned long long proto = load_half(skb, 12);
  unsigned long long ihl = load_byte(skb, 14) & 0xf;
  unsigned long long ports = load_word(skb, 14 + ihl * 4);
  return proto == 0x0800 && (ports & 0xffff) == 53 ? -1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
