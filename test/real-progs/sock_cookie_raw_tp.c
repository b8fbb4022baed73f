/* A raw_tp program has no bpf_get_socket_cookie (raw_tp_prog_func_proto):
 * the fallback tcppktlat compiles for kernels without tp_btf. Linux rejects it. */
#include "sock.h"

SEC("raw_tp/tcp_destroy_sock")
int sock_cookie_raw_tp(unsigned long long *ctx)
{
	struct sock *sk = (void *)ctx[0];

	return bpf_get_socket_cookie(sk) & 1;
}
