/* Program-allocated objects (bpf_obj_new): the kfuncs as the kernel's
 * selftests declare them (bpf_experimental.h), and the program's own structs. */
#ifndef ALLOC_H
#define ALLOC_H
#include "real.h"

#define __kptr __attribute__((btf_type_tag("kptr")))

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern void *bpf_refcount_acquire_impl(void *kptr, void *meta) __ksym;

#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_refcount_acquire(kptr) bpf_refcount_acquire_impl(kptr, NULL)

struct bpf_refcount {
	__u32 __opaque[1];
} __attribute__((aligned(4)));

struct bpf_rb_node {
	__u64 __opaque[4];
} __attribute__((aligned(8)));

/* a plain object */
struct point {
	__u64 x;
	__u32 y;
	__u32 z;
};

/* a counted one: bpf_refcount_acquire takes another reference */
struct counted {
	__u64 value;
	struct bpf_refcount ref;
	__u32 tail;
};

/* one that can sit in an rbtree (a node no kernel struct has: tsbpf knows it for the program's) */
struct tree_item {
	__u64 key;
	struct bpf_rb_node node;
};

/* a map of stashed objects */
struct stash {
	struct tree_item __kptr *item;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stash);
} stashes SEC(".maps");

#endif
