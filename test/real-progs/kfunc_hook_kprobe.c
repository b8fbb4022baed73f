/* kprobe: bpf_task_from_pid is registered for the tracing hook, which
 * tracepoint, perf_event and lsm programs share but kprobe programs do not
 * (bpf_prog_type_to_kfunc_hook). Linux rejects it: "calling kernel
 * function bpf_task_from_pid is not allowed". */
#include "real.h"

extern struct task_struct *bpf_task_from_pid(__s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("kprobe/do_nanosleep")
int kfunc_hook_kprobe(struct pt_regs *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);

	if (t)
		bpf_task_release(t);
	return 0;
}
