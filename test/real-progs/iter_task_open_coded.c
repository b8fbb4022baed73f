/* bpf_for_each(task, ...) over the threads of the task switched out (tp_btf/sched_switch):
 * bpf_iter_task_new takes a trusted task (or NULL) and _next gives each thread, RCU-protected.
 * Linux accepts it; tsbpf gives the same verdict and refuses to run it (it has no tasks). */
#include "real.h"

struct bpf_iter_task {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task__nullable, unsigned int flags) __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym;

SEC("tp_btf/sched_switch")
int iter_task_open_coded(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1], *t;
	struct bpf_iter_task it;
	int last = 0;

	bpf_iter_task_new(&it, prev, 1 /* BPF_TASK_ITER_ALL_THREADS */);
	while ((t = bpf_iter_task_next(&it)))
		last = t->pid;
	bpf_iter_task_destroy(&it);
	return last == prev->pid;
}
