/* iter/task_file: bpf_sock_from_file's result read without a NULL check.
 * Linux rejects it (R0 is ptr_or_null_socket). */
#include "files.h"

SEC("iter/task_file")
int iter_task_file_sock_unchecked(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct socket *sock;

	if (!file)
		return 0;
	sock = bpf_sock_from_file(file);
	return sock->type;
}
