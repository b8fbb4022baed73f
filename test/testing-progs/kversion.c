// LINUX_KERNEL_VERSION as the kit fills it (the running kernel's, as
// libbpf's, or the shipped small kernel's): biolatency's way of picking the
// tracepoint argument that holds the request.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

extern __u32 LINUX_KERNEL_VERSION __kconfig;

SEC("raw_tp/sched_switch")
int version(void *ctx)
{
	return LINUX_KERNEL_VERSION;
}

SEC("tp_btf/block_rq_issue")
int issue(__u64 *ctx)
{
	struct request *rq;

	/* before 5.11 block_rq_issue had the queue first: ctx[1] is past the end of its context now */
	if (LINUX_KERNEL_VERSION < KERNEL_VERSION(5, 11, 0))
		rq = (void *)ctx[1];
	else
		rq = (void *)ctx[0];
	return BPF_CORE_READ(rq, __data_len);
}

char LICENSE[] SEC("license") = "GPL";
