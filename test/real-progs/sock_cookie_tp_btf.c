/* bpf_get_socket_cookie on a tp_btf socket argument: in tracing programs
 * the helper is bpf_get_socket_ptr_cookie_proto, taking a kernel socket
 * pointer (ARG_PTR_TO_BTF_ID_SOCK_COMMON | PTR_MAYBE_NULL), as bcc's
 * tcppktlat uses it. Linux accepts it. */
#include "sock.h"

SEC("tp_btf/tcp_destroy_sock")
int sock_cookie_tp_btf(unsigned long long *ctx)
{
	struct sock *sk = (void *)ctx[0];

	return bpf_get_socket_cookie(sk) & 1;
}
