// A kprobe built for arm64 (__TARGET_ARCH_arm64): PT_REGS_PARM1..4 and
// PT_REGS_RC read struct user_pt_regs' x0..x3. (Its pc and sp lie past the
// 168 bytes of x86-64's pt_regs, the kprobe context size tsbpf's verifier
// judges by: an x86-64 kernel's.)
#undef __TARGET_ARCH_x86
#define __TARGET_ARCH_arm64 1
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 5);
	__type(key, __u32);
	__type(value, __s64);
} seen SEC(".maps");

static __always_inline void put(__u32 i, __s64 v)
{
	bpf_map_update_elem(&seen, &i, &v, BPF_ANY);
}

SEC("kprobe/four_args")
int BPF_KPROBE(kp64, long a, long b, long c, long d)
{
	put(0, a);
	put(1, b);
	put(2, c);
	put(3, d);
	return 0;
}

SEC("kretprobe/four_args")
int BPF_KRETPROBE(krp64, long ret)
{
	put(4, ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
