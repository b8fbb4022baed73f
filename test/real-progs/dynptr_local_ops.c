/* A local dynptr over a global buffer (a map value): written, read back, sliced, narrowed with
 * bpf_dynptr_adjust and cloned; each check that holds sets a bit of the return value, and the
 * packet's first byte is the value written. */
#include "real.h"
#include "dynptr.h"

extern int bpf_dynptr_adjust(const struct bpf_dynptr *ptr, __u32 start, __u32 end) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *ptr, struct bpf_dynptr *clone__uninit) __ksym;
extern bool bpf_dynptr_is_null(const struct bpf_dynptr *ptr) __ksym;

__u64 buf[2];

SEC("xdp")
int dynptr_local_ops(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 v = p + 1 <= end ? p[0] : 0, back = 0, *slot;
	struct bpf_dynptr d, c;
	int r = 0;

	bpf_dynptr_from_mem(buf, sizeof(buf), 0, &d);
	if (bpf_dynptr_write(&d, 8, &v, sizeof(v), 0) == 0)
		r |= 1;
	if (bpf_dynptr_write(&d, 12, &v, sizeof(v), 0) == -7 /* -E2BIG */)
		r |= 2;
	slot = bpf_dynptr_data(&d, 8, sizeof(__u64));
	if (slot && *slot == v)
		r |= 4;
	if (bpf_dynptr_adjust(&d, 8, 16) == 0 && bpf_dynptr_size(&d) == 8)
		r |= 8;
	bpf_dynptr_clone(&d, &c);
	if (bpf_dynptr_read(&back, sizeof(back), &c, 0, 0) == 0 && back == v)
		r |= 16;
	if (!bpf_dynptr_is_null(&c) && bpf_dynptr_adjust(&c, 4, 2) == -22 /* -EINVAL */)
		r |= 32;
	return r;
}
