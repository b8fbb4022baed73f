/* An lsm_cgroup program allows (1) or denies (0) a bind in its cgroup, and sets
 * the errno the denied caller sees with bpf_set_retval.
 * derived verdict: accept */
#include "real.h"

SEC("lsm_cgroup/socket_bind")
int lsm_cgroup_bind(unsigned long long *ctx)
{
	int addrlen = (int)ctx[2];

	if (addrlen < 2) {
		bpf_set_retval(-13);	/* -EACCES */
		return 0;
	}
	return 1;
}
