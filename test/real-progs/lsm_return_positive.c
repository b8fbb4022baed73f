/* An LSM program on an int hook returns 0 or a negative errno; 1 is refused
 * (bpf_lsm_get_retval_range: [-MAX_ERRNO, 0]).
 * derived verdict: reject (At program exit the register R0 has smin=1 smax=1 should have been in [-4095, 0]) */
#include "real.h"

SEC("lsm/file_open")
int lsm_return_positive(unsigned long long *ctx)
{
	return 1;
}
