/* bpf_skc_to_mptcp_sock takes ARG_PTR_TO_SOCK_COMMON, a socket hook's
 * socket, not a kernel-object pointer. Linux rejects it in tracing programs. */
#include "sock.h"

SEC("tp_btf/tcp_probe")
int skc_to_mptcp(unsigned long long *ctx)
{
	struct sock *sk = (void *)ctx[0];

	return bpf_skc_to_mptcp_sock(sk) != 0;
}
