// SPDX-License-Identifier: MIT
/*
 * The programs of `tsbpf demo`: HTTP request latency as a log2 histogram
 * (bpftrace's hist()), a per-route request counter, and a ring buffer of
 * slow requests, all fed by Node's diagnostics_channel through tsbpf
 * tracepoints (include/tsbpf/tracepoints.h).
 *
 * Build: scripts/build-examples.sh (clang-19 -O2 -g -target bpf).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "tsbpf/tracepoints.h"

/* Requests slower than this (µs) go to the slow ring buffer; the loader may set it. */
const volatile __u64 slow_us = 20000;

/* req_id -> start timestamp */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} start SEC(".maps");

/* bpftrace's hist() slots: [0] for 0, [1] for 1, [2,4) ... (slot 0 would be negative values) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 66);
	__type(key, __u32);
	__type(value, __u64);
} latency_us SEC(".maps");

/* route (the URL path) -> requests */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[TSBPF_PATH_LEN]);
	__type(value, __u64);
} requests SEC(".maps");

struct slow_request {
	__u64 latency_us;
	__u16 status;
	__u16 reserved[3];
	char method[8];
	char path[TSBPF_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} slow SEC(".maps");

/* floor(log2(v)) for v > 0, without loops. */
static __always_inline __u32 ilog2(__u64 v)
{
	__u32 r = 0;
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

SEC("tracepoint/node/http_server_request_start")
int on_request_start(struct tsbpf_http_request *ctx)
{
	__u64 id = ctx->req_id;
	__u64 ts = ctx->ts_ns;
	char route[TSBPF_PATH_LEN];
	__u64 one = 1, *n;

	bpf_map_update_elem(&start, &id, &ts, BPF_ANY);
	__builtin_memcpy(route, ctx->path, sizeof(route));
	n = bpf_map_lookup_elem(&requests, route);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&requests, route, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/node/http_server_response_finish")
int on_response_finish(struct tsbpf_http_request *ctx)
{
	__u64 id = ctx->req_id;
	__u64 *tsp, us, *cnt;
	__u32 slot;
	struct slow_request *rec;

	tsp = bpf_map_lookup_elem(&start, &id);
	if (!tsp)
		return 0;
	us = (ctx->ts_ns - *tsp) / 1000;
	bpf_map_delete_elem(&start, &id);

	slot = us == 0 ? 1 : 2 + ilog2(us);
	if (slot > 65)
		slot = 65;
	cnt = bpf_map_lookup_elem(&latency_us, &slot);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	if (us >= slow_us) {
		rec = bpf_ringbuf_reserve(&slow, sizeof(*rec), 0);
		if (!rec)
			return 0;
		rec->latency_us = us;
		rec->status = ctx->status;
		__builtin_memcpy(rec->method, ctx->method_name, sizeof(rec->method));
		__builtin_memcpy(rec->path, ctx->path, sizeof(rec->path));
		bpf_ringbuf_submit(rec, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
