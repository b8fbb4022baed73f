/* Both constructs at once: a tp_btf task pointer read through a flavoured
 * type, the field chosen by existence (libbpf-tools' get_task_state). */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_guarded_flavour(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];

	if (bpf_core_field_exists(struct task_struct___x, __state))
		return ((struct task_struct___x *)prev)->__state & 1;
	return ((struct task_struct___o *)prev)->state & 1;
}
