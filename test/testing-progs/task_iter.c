// Iterator programs in the style of libbpf-bootstrap's task_iter: one record
// per task written with bpf_seq_write (get_tasks), a text line per task with
// bpf_seq_printf and a footer from the stop call (ps_lines), and one that
// writes more than the seq buffer holds for some tasks (big_lines), to test
// the kernel's overflow and retry rules.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_STACK_LEN 4

struct task_info {
	__s32 pid;
	__s32 tid;
	__u32 state;
	char comm[16];
	__s32 kstack_len;
	__u64 kstack[MAX_STACK_LEN];
};

/* keeps struct task_info in the object's BTF, for the test to decode records with */
const struct task_info *unused_task_info __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct task_info);
} task_info_buf SEC(".maps");

static __u32 zero = 0;

SEC("iter/task")
int get_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct task_info *t;
	long res;

	if (!task)
		return 0;
	t = bpf_map_lookup_elem(&task_info_buf, &zero);
	if (!t)
		return 0;
	t->pid = task->tgid;
	t->tid = task->pid;
	t->state = task->__state;
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), task->comm);
	res = bpf_get_task_stack(task, t->kstack, sizeof(t->kstack), 0);
	t->kstack_len = res <= 0 ? res : res / sizeof(t->kstack[0]);
	bpf_seq_write(seq, t, sizeof(*t));
	return 0;
}

/* the stop call's session and seq_num, and how often it ran */
__u64 stop_session, stop_seq_num, stop_calls;

SEC("iter/task")
int ps_lines(struct bpf_iter__task *ctx)
{
	struct bpf_iter_meta *meta = ctx->meta;
	struct seq_file *seq = meta->seq;
	struct task_struct *task = ctx->task;

	if (!task) {
		stop_session = meta->session_id;
		stop_seq_num = meta->seq_num;
		stop_calls++;
		BPF_SEQ_PRINTF(seq, "-- %llu tasks\n", meta->seq_num + 1);
		return 0;
	}
	if (meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "%7s %7s %s\n", "PID", "TID", "COMM");
	BPF_SEQ_PRINTF(seq, "%7d %7d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

/* big_lines: each task writes `chunks` blocks of 4000 bytes; the helper's return codes land in `last_ret` */
const volatile __u32 chunks = 1;
/* a task whose pid is retry_pid returns 1 ("retry the same object") the first retry_times times */
const volatile __s32 retry_pid = -1;
const volatile __u32 retry_times = 0;
__s64 last_ret;
__u32 retried;
char block[4000];

SEC("iter/task")
int big_lines(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	__u32 i;

	if (!task)
		return 0;
	if (task->pid == retry_pid && retried < retry_times) {
		retried++;
		return 1;
	}
	block[0] = 'a' + ((__u32)task->pid % 26);
	for (i = 0; i < chunks && i < 16; i++)
		last_ret = bpf_seq_write(seq, block, sizeof(block));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
