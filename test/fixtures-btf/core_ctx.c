/*
 * CO-RE against tsbpf's own target BTF (src/object/btf/context.ts).
 *
 * xdp_core reads struct xdp_md through a local flavor whose fields are in a
 * different order (and one of which the target lacks): the loader must move
 * every offset to the target's layout. task_core reads struct task_struct,
 * which tsbpf's target does not have: loading it must fail with a CO-RE
 * error naming the type. Built by build.sh (the .o is committed).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* local layout: ingress_ifindex 0, data_end 4, data 8, no_such_field 12 (kernel: data 0, data_end 4, ingress_ifindex 12) */
struct xdp_md___local {
	__u32 ingress_ifindex;
	__u32 data_end;
	__u32 data;
	__u32 no_such_field;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

/* known to tsbpf: this relocation succeeds before task_struct's fails */
struct pt_regs {
	unsigned long di;
} __attribute__((preserve_access_index));

SEC("xdp")
int xdp_core(struct xdp_md *xdp)
{
	struct xdp_md___local *ctx = (void *)xdp;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 ret = (__u32)(data_end - data);

	/* first packet byte, to prove data points at the packet */
	if (data + 1 <= data_end)
		ret += (__u32)(*(__u8 *)data) << 8;
	ret += ctx->ingress_ifindex << 16;
	/* the target has no such member: 0 (libbpf); the local offset would be 1 */
	ret += bpf_core_field_exists(ctx->no_such_field) << 20;
	ret += bpf_core_field_exists(ctx->data_end) << 21;
	return ret;
}

SEC("kprobe/do_nanosleep")
int task_core(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)ctx->di;

	return BPF_CORE_READ(t, tgid);
}

char LICENSE[] SEC("license") = "GPL";
