/* tracepoint: a kfunc tested with bpf_ksym_exists()'s idiom before it is
 * called, as bcc's sigsnoop does with bpf_task_from_pid. libbpf loads the
 * kfunc's address as an lddw of its BTF id, which the verifier types as
 * read-only memory of size 0; tracepoint programs may call the kfuncs
 * registered for tracing (bpf_prog_type_to_kfunc_hook). Linux accepts it. */
#include "real.h"

extern struct task_struct *bpf_task_from_pid(__s32 pid) __weak __ksym;
extern void bpf_task_release(struct task_struct *p) __weak __ksym;

SEC("tracepoint/syscalls/sys_enter_kill")
int kfunc_ksym_exists(void *ctx)
{
	char comm[16] = {};
	struct task_struct *t;

	if (!!bpf_task_from_pid) {
		t = bpf_task_from_pid(1);
		if (t) {
			bpf_probe_read_kernel(comm, sizeof(comm), t->comm);
			bpf_task_release(t);
		}
	}
	return comm[0];
}
