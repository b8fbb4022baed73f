// A stack map declared as libbpf-tools declare theirs: no value_size and
// no max_entries, which the tool's user space sets before load
// (bpf_map__set_value_size, bpf_map__set_max_entries); `tsbpf prog run
// --map-size` does it on the command line.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
} stackmap SEC(".maps");

SEC("kprobe/vfs_write")
int with_stack(struct pt_regs *ctx)
{
	return bpf_get_stackid(ctx, &stackmap, 0);
}

char LICENSE[] SEC("license") = "GPL";
