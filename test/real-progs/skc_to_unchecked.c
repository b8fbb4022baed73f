/* The cast may fail: its result must be compared with NULL before a read
 * (ptr_or_null_tcp_sock). Linux rejects it. */
#include "sock.h"

SEC("tp_btf/tcp_probe")
int skc_to_unchecked(unsigned long long *ctx)
{
	struct sock *sk = (void *)ctx[0];
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	return tp->srtt_us >> 3;
}
