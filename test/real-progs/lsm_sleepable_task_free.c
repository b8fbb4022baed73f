/* lsm.s/ only on the hooks the kernel lists as sleepable; task_free is not one.
 * derived verdict: reject (bpf_lsm_task_free is not sleepable) */
#include "real.h"

SEC("lsm.s/task_free")
int lsm_sleepable_task_free(unsigned long long *ctx)
{
	return 0;
}
