/* A per-CPU variable's address is not this CPU's copy: reading
 * runqueues.nr_running straight through it is refused ("access percpu
 * memory"). Linux with
 * CONFIG_KALLSYMS_ALL rejects it so (ksym.h). */
#include "ksym.h"

SEC("raw_tp/sys_enter")
int ksym_percpu_direct(void *ctx)
{
	return runqueues.nr_running;
}
