/* Socket types as tp_btf/fentry programs of networking tools see them
 * (tcppktlat, tcprtt): only the fields a program reads, relocated by name
 * against the running kernel's BTF (preserve_access_index, real.h's __core). */
#ifndef SOCK_H
#define SOCK_H
#include "real.h"

struct sock_common {
	unsigned short skc_family;
	unsigned short skc_dport;
} __core;

struct sock {
	struct sock_common __sk_common;
} __core;

struct tcp_sock {
	unsigned int srtt_us;
} __core;

struct sk_buff {
	struct sock *sk;
	unsigned int len;
} __core;
#endif
