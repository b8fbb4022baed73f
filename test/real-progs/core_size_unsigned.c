/* pt_regs->di is 8 bytes in the kernel and 4 here: an unsigned field may be
 * read narrower or wider (libbpf patches the load's size). */
#include "real.h"

struct pt_regs___u {
	unsigned int di;
} __core;

SEC("kprobe/do_nanosleep")
int core_size_unsigned(struct pt_regs___u *ctx)
{
	return ctx->di & 1;
}
