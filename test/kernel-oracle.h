/*
 * What the kernel-oracle loaders of the tests (test/verifier-corpus/kloader.c,
 * test/verifier-unseen/oloader.c) share: the errno names the bpf() syscall
 * returns, as tsbpf's errors name them (src/errors.ts; ENOTSUPP, 524, is
 * kernel-internal but BPF commands do return it), and the verifier log's
 * reason line.
 */
#ifndef TSBPF_KERNEL_ORACLE_H
#define TSBPF_KERNEL_ORACLE_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	case EPROTO: return "EPROTO";
	case 524: return "ENOTSUPP";
	default: return "E?";
	}
}

/* The line that says why: the last one that is not the statistics trailer. */
static void last_line(const char *log, char *out, size_t outsz)
{
	const char *best = NULL;
	size_t bestlen = 0;
	const char *p = log;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17) &&
		    strncmp(p, "stack depth", 11)) {
			best = p;
			bestlen = len;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!best) {
		snprintf(out, outsz, "-");
		return;
	}
	/* The statistics line sometimes follows the message without a newline. */
	for (size_t i = 1; i + 10 <= bestlen; i++)
		if (!strncmp(best + i, "processed ", 10)) {
			bestlen = i;
			break;
		}
	if (bestlen >= outsz)
		bestlen = outsz - 1;
	for (size_t i = 0; i < bestlen; i++)
		out[i] = best[i] == '\t' ? ' ' : best[i];
	out[bestlen] = 0;
}

#endif
