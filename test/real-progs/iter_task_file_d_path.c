/* iter/task_file: each open file's path (bpf_d_path, allowed in every
 * iterator) written to the seq_file, as bpftool's pid_iter and lsof-like
 * tools do. The file may be NULL (the iterator's last call). Linux accepts it. */
#include "files.h"

SEC("iter/task_file")
int iter_task_file_d_path(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct file *file = ctx->file;
	char path[64];
	long n;

	if (!file)
		return 0;
	n = bpf_d_path(&file->f_path, path, sizeof(path));
	if (n > 0)
		bpf_seq_write(seq, path, sizeof(path));
	return 0;
}
