/* pt_regs->di is an unsigned long; read as a signed int the value would be
 * wrong, so libbpf poisons the load, and the verifier reaches it. */
#include "real.h"

struct pt_regs___s {
	int di;
} __core;

SEC("kprobe/do_nanosleep")
int core_size_signed(struct pt_regs___s *ctx)
{
	return ctx->di & 1;
}
