/* iter/tcp: a trusted socket that may be NULL; after the check it is
 * read directly, cast with bpf_skc_to_tcp_sock and printed to the seq_file
 * with bpf_seq_printf (BPF_SEQ_PRINTF). Linux accepts it. */
#include "iter.h"
#include <bpf/bpf_tracing.h>

SEC("iter/tcp")
int iter_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	struct tcp_sock *tp;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	BPF_SEQ_PRINTF(seq, "%u %u %u\n", skc->skc_family, ctx->uid, tp->srtt_us);
	return 0;
}
