/* Map values with a struct bpf_spin_lock, as programs keep shared counters:
 * a hash whose value starts with the lock, and an array whose value holds it
 * inside a nested struct. */
#ifndef SPIN_LOCK_H
#define SPIN_LOCK_H
#include "real.h"

struct counter {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 packets;
	__u64 bytes;
};

struct guarded {
	__u64 seen;
	struct {
		__u32 flags;
		struct bpf_spin_lock lock;
	} inner;
	__u64 total;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct guarded);
} guards SEC(".maps");

/* a value without a lock */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} plain SEC(".maps");
#endif
