// A .rodata constant past the value's start decides which tracepoint
// argument is read, as biolatency's targ_single (offset 12) does: the
// verifier must take the constant at its own offset, not the value's first
// byte, to see that the ctx[1] branch is dead.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 first = 0;
const volatile __u32 second = 0;
const volatile __u32 third = 7;
const volatile __u8 single = 1;

SEC("tp_btf/sched_wakeup")
int wakeup(__u64 *ctx)
{
	struct task_struct *p;

	/* sched_wakeup has one argument: ctx[1] is past the context, dead while single is true */
	if (!single)
		p = (void *)ctx[1];
	else
		p = (void *)ctx[0];
	return p->pid + third;
}

char LICENSE[] SEC("license") = "GPL";
