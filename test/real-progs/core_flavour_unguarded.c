/* `state` (gone since Linux 5.14) read without a guard: libbpf poisons the
 * instruction and the verifier reaches it: invalid func unknown#195896080. */
#include "real.h"

SEC("kprobe/do_nanosleep")
int core_flavour_unguarded(struct pt_regs *ctx)
{
	struct task_struct___o *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, state) & 1;
}
