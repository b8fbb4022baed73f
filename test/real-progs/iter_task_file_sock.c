/* iter/task_file: which open files are sockets (bpf_sock_from_file:
 * RET_PTR_TO_BTF_ID_OR_NULL struct socket), reading the socket's type once
 * it is checked for NULL. Linux accepts it. */
#include "files.h"

SEC("iter/task_file")
int iter_task_file_sock(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct file *file = ctx->file;
	struct socket *sock;
	short type;

	if (!file)
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	type = sock->type;
	bpf_seq_write(seq, &type, sizeof(type));
	return 0;
}
