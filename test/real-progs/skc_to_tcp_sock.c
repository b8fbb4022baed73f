/* bpf_skc_to_tcp_sock casts a tp_btf socket to struct tcp_sock or NULL;
 * after the NULL check its fields are read directly (tcprtt-style).
 * Linux accepts it. */
#include "sock.h"

SEC("tp_btf/tcp_probe")
int skc_to_tcp_sock(unsigned long long *ctx)
{
	struct sock *sk = (void *)ctx[0];
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return 0;
	return tp->srtt_us >> 3;
}
