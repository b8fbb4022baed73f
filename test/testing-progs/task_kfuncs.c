// The task kfuncs under the kit (src/helpers/object-kfuncs.ts): a task found
// by pid, a second reference taken and both dropped, as bcc's sigsnoop does;
// each kfunc tested first with bpf_ksym_exists()'s idiom, and a weak kfunc no
// kernel has, whose guarded call is dead code.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern struct task_struct *bpf_task_from_pid(s32 pid) __weak __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __weak __ksym;
extern void bpf_task_release(struct task_struct *p) __weak __ksym;
extern int tsbpf_no_such_kfunc(int x) __weak __ksym;

pid_t target_pid;
int found_pid;
int has_kfunc;
int has_missing;
char found_comm[16];

SEC("tp_btf/sched_wakeup")
int BPF_PROG(by_pid, struct task_struct *p)
{
	struct task_struct *t, *again;

	has_kfunc = !!bpf_task_from_pid;
	has_missing = !!tsbpf_no_such_kfunc;
	if (has_missing)
		return tsbpf_no_such_kfunc(1);
	if (!has_kfunc)
		return 0;
	t = bpf_task_from_pid(target_pid);
	if (!t) {
		found_pid = -1;
		return 0;
	}
	again = bpf_task_acquire(t);
	if (again) {
		found_pid = again->pid;
		bpf_probe_read_kernel_str(found_comm, sizeof(found_comm), again->comm);
		bpf_task_release(again);
	}
	bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
