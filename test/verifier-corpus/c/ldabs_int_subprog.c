// SPDX-License-Identifier: GPL-2.0
/* Accepted: the same function returning int may use LD_ABS; an out-of-packet load returns 0
 * from it, which the caller sees as any other return value. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

static __attribute__((noinline)) int proto_of(struct __sk_buff *skb)
{
	return load_byte(skb, 23);
}

SEC("socket")
int ldabs_int_subprog(struct __sk_buff *skb)
{
	return proto_of(skb) == 6;
}

char LICENSE[] SEC("license") = "GPL";
