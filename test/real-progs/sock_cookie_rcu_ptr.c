/* skb->sk read from a trusted tp_btf sk_buff is an RCU pointer that may be
 * NULL (BTF_TYPE_SAFE_RCU_OR_NULL): the socket helpers take plain or trusted
 * kernel pointers only (btf_id_sock_common_types). Linux rejects it. */
#include "sock.h"

SEC("tp_btf/tcp_probe")
int sock_cookie_rcu_ptr(unsigned long long *ctx)
{
	struct sk_buff *skb = (void *)ctx[1];

	return bpf_get_socket_cookie(skb->sk) & 1;
}
