/* Map values with a struct bpf_timer, as programs keep per-flow timeouts:
 * an array whose value holds a counter before the timer, a hash and an LRU
 * hash whose values start with it, and a value without one. */
#ifndef TIMER_H
#define TIMER_H
#include "real.h"

#define CLOCK_MONOTONIC 1

struct flow {
	__u64 fired;
	struct bpf_timer timer;
	__u64 seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct flow);
} hflows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct flow);
} lflows SEC(".maps");

/* a value without a timer */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} untimed SEC(".maps");
#endif
