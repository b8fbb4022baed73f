// The tests' way of reporting what a program saw: slot i of the array
// `seen` holds the i-th value (test/testing-*.test.ts read it back).
#ifndef SEEN_H
#define SEEN_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void put(__u32 i, __u64 v)
{
	bpf_map_update_elem(&seen, &i, &v, BPF_ANY);
}

#endif
