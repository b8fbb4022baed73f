/* Kptrs held in program-allocated objects and kptrs to program-local structs
 * (bpf_kptr_xchg into a bpf_obj_new'd object; btf_parse_kptr's local types). */
#ifndef KPTR_OBJ_H
#define KPTR_OBJ_H
#include "alloc.h"

/* an object holding a kptr to another program-local object (a kptr gives it a record). clang
 * emits struct point whole only where a program uses it whole (bpf_obj_new): else it is a FWD,
 * which the kernel takes for no kptr pointee (kptr_fwd_pointee.c), and the field is plain memory. */
struct holder {
	struct point __kptr *p;
	__u64 v;
};

/* a map value holding a kptr to a plain program-local struct (no field marks it the program's) */
struct plain_stash {
	struct point __kptr *p;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct plain_stash);
} plain_stashes SEC(".maps");

#endif
