/* func_info and line_info: a program whose instructions the kernel does not
 * rewrite, so `bpftool prog dump xlated linum` lines up with the object. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int hits;

static __attribute__((noinline)) int scale(int x, int by)
{
	if (x > 100)
		return x / by;
	return x * by;
}

static __attribute__((noinline)) void bump(void)
{
	hits += 1;
}

SEC("xdp")
int lines_prog(struct xdp_md *ctx)
{
	int v = scale(hits, 3);

	bump();
	if (v & 1)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
