/* A task is no socket: btf_struct_ids_match finds no struct sock_common at
 * the start of struct task_struct. Linux rejects it. */
#include "sock.h"

SEC("tp_btf/tcp_probe")
int skc_to_task(unsigned long long *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_skc_to_tcp_sock(t) != 0;
}
