/*
 * The errno names the kernel's bpf() syscall returns, as tsbpf's errors name
 * them (src/errors.ts): shared by the kernel-oracle loaders of the tests,
 * test/verifier-corpus/kloader.c and test/verifier-unseen/oloader.c.
 * ENOTSUPP (524) is kernel-internal, but BPF commands do return it.
 */
#ifndef TSBPF_KERNEL_ERRNO_H
#define TSBPF_KERNEL_ERRNO_H
#include <errno.h>

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "-";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ELOOP: return "ELOOP";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}
#endif
