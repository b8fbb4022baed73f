/* tp_btf/sched_switch: an __arg_trusted pointer to a struct the kernel has
 * no type of that name for (btf_get_ptr_to_btf_id: "has no matches").
 * Linux refuses it (ENOENT). */
#include "real.h"
#include "global_trusted.h"

struct tsbpf_no_such_struct {
	int x;
};

__global int x_of(struct tsbpf_no_such_struct *p __trusted_arg)
{
	return p->x;
}

SEC("tp_btf/sched_switch")
int global_trusted_no_type(unsigned long long *ctx)
{
	return x_of((void *)ctx[1]);
}
