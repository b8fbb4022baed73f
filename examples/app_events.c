// SPDX-License-Identifier: MIT
/*
 * Event streams from an application tracepoint (tracepoint/app/order):
 * each event's first u64 (an order id) goes to a ring buffer, to a perf
 * event array, and to trace_pipe through bpf_printk. The host reads them
 * with src/hooks/streams.ts.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tsbpf/tracepoints.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} orders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 64);
} order_events SEC(".maps");

struct order {
	__u64 id;
	__u64 ts_ns;
};

SEC("tracepoint/app/order")
int on_order(struct tsbpf_app_event *ctx)
{
	struct order o = {};

	o.id = *(__u64 *)&ctx->data[0];
	o.ts_ns = ctx->ts_ns;
	bpf_ringbuf_output(&orders, &o, sizeof(o), 0);
	bpf_perf_event_output(ctx, &order_events, BPF_F_CURRENT_CPU, &o, sizeof(o));
	/* three arguments: tsbpf's verifier still wants r3-r5 set for bpf_trace_printk */
	bpf_printk("order %llu cpu %u ts %llu", o.id, bpf_get_smp_processor_id(), o.ts_ns);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
