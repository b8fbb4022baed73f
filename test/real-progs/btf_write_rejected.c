/* Tracing programs cannot write kernel objects: "only read is supported". */
#include "real.h"

SEC("tp_btf/sched_switch")
int btf_write_rejected(unsigned long long *ctx)
{
	struct task_struct *next = (void *)ctx[2];

	next->flags = 0;
	return 0;
}
