// A ps-like task iterator (libbpf-bootstrap's task_iter, as text): one line
// per task with bpf_seq_printf, a header before the first and a count from
// the stop call (the last call, with no task). Read it with
// `bpftool iter pin taskps.bpf.o /sys/fs/bpf/taskps && cat /sys/fs/bpf/taskps`,
// or under test with kit.iterate().
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* only tasks of this uid, when set (-1: all) */
const volatile __s64 only_uid = -1;

SEC("iter/task")
int taskps(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task) {
		BPF_SEQ_PRINTF(seq, "%llu tasks seen\n", ctx->meta->seq_num + 1);
		return 0;
	}
	if (only_uid >= 0 && task->cred->uid.val != only_uid)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "%-7s %-7s %-5s %s\n", "PID", "PPID", "UID", "COMM");
	BPF_SEQ_PRINTF(seq, "%-7d %-7d %-5u %s\n", task->pid, task->real_parent->tgid, task->cred->uid.val, task->comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
