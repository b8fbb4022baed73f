/* The program's own linked lists: struct bpf_list_head roots tagged
 * __contains(T, node), guarded by a struct bpf_spin_lock beside them, holding
 * objects of the program's struct T that bpf_obj_new allocates (alloc.h).
 * The kfuncs as the kernel's selftests declare them (bpf_experimental.h). */
#ifndef GRAPH_H
#define GRAPH_H
#include "alloc.h"

#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))

struct bpf_list_head {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

struct bpf_list_node {
	__u64 __opaque[3];
} __attribute__((aligned(8)));

extern int bpf_list_push_front_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;

#define bpf_list_push_front(head, node) bpf_list_push_front_impl(head, node, NULL, 0)
#define bpf_list_push_back(head, node) bpf_list_push_back_impl(head, node, NULL, 0)

/* an element, with a lock of its own (the structs a __contains names must be in the object's BTF) */
struct elem {
	struct bpf_list_node node;
	struct bpf_spin_lock lock;
	__u32 data;
	struct bpf_list_node node2;
};

/* a map of elems keeps struct elem (not only a forward declaration) in every object's BTF,
 * which the __contains tags below name */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct elem);
} elem_pool SEC(".maps");

/* a map value holding a list of elems, linked through node2 */
struct lists {
	struct bpf_spin_lock lock;
	__u32 count;
	struct bpf_list_head head __contains(elem, node2);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lists);
} lists SEC(".maps");

/* global lists: glock guards ghead (one section, one map); glock2 is another map's */
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_list_head ghead __contains(elem, node2);
private(B) struct bpf_spin_lock glock2;

static __always_inline struct lists *lists_value(void)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&lists, &key);
}

#endif
