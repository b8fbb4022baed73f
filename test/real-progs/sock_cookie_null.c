/* The tracing proto of bpf_get_socket_cookie takes NULL (PTR_MAYBE_NULL):
 * a constant 0 skips the type check. Linux accepts it. */
#include "sock.h"

SEC("tp_btf/tcp_destroy_sock")
int sock_cookie_null(unsigned long long *ctx)
{
	return bpf_get_socket_cookie((void *)0) & 1;
}
