// SPDX-License-Identifier: GPL-2.0
/* Rejected: a function other than the main program that uses LD_ABS (here through LLVM's
 * llvm.bpf.load.byte intrinsic) must return an integer, since an out-of-packet load returns 0
 * from it (check_btf_func: "LD_ABS is only allowed in functions that return 'int'"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

unsigned long long seen;

static __attribute__((noinline)) void note_proto(struct __sk_buff *skb)
{
	seen += load_byte(skb, 23);
}

SEC("socket")
int ldabs_void_subprog(struct __sk_buff *skb)
{
	note_proto(skb);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
