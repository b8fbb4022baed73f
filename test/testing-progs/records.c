// Tracepoint records named by event class: tcp_destroy_sock's record is
// trace_event_raw_tcp_event_sk (DEFINE_EVENT), found through the kit's
// class table, through the program's CO-RE relocations (a ___flavour of
// the class's struct, as libbpf-tools write them) or through the type of
// its context argument.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct trace_event_raw_tcp_event_sk___x {
	__u16 dport;
	__u64 sock_cookie;
} __attribute__((preserve_access_index));

SEC("tracepoint/tcp/tcp_destroy_sock")
int by_class(struct trace_event_raw_tcp_event_sk *ctx)
{
	return ctx->sport;
}

SEC("tracepoint/tcp/tcp_new_event")
int by_relocation(void *args)
{
	struct trace_event_raw_tcp_event_sk___x *ctx = args;

	return BPF_CORE_READ(ctx, dport) + BPF_CORE_READ(ctx, sock_cookie);
}

SEC("tracepoint/tcp/tcp_other_event")
int by_argument(struct trace_event_raw_tcp_event_sk *ctx)
{
	return 7;
}

SEC("tracepoint/tcp/tcp_unnamed_event")
int unnamed(void *ctx)
{
	return 8;
}

char LICENSE[] SEC("license") = "GPL";
