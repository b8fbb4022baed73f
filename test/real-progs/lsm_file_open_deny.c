/* An LSM policy as tools write one: keep an earlier program's denial, else refuse
 * files opened for writing. The hook's arguments come from the context;
 * file->f_flags is a CO-RE read through a trusted struct file pointer, and
 * clang computes the -EPERM with a BPF_NEG, whose range Linux 6.16+ tracks.
 * This machine refuses lsm loads unjudged; the verdict follows kernel/bpf/bpf_lsm.c.
 * derived verdict: accept */
#include "real.h"

struct file {
	unsigned int f_flags;
} __core;

SEC("lsm/file_open")
int lsm_file_open_deny(unsigned long long *ctx)
{
	struct file *file = (struct file *)ctx[0];
	int ret = (int)ctx[1];

	if (ret)
		return ret;
	if (file->f_flags & 01)	/* O_WRONLY */
		return -1;	/* -EPERM */
	return 0;
}
