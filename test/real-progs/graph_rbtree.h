/* The program's own rbtrees: a struct bpf_rb_root tagged __contains(tree_item, node) (alloc.h's
 * tree_item) in global data beside its lock, and a less callback ordering by key. */
#ifndef GRAPH_RBTREE_H
#define GRAPH_RBTREE_H
#include "graph.h"

struct bpf_rb_root {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       _Bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;

#define bpf_rbtree_add(root, node, less) bpf_rbtree_add_impl(root, node, less, NULL, 0)

/* a tree of tree_items (alloc.h), keyed by key, with its lock in the same section */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tree_item);
} tree_pool SEC(".maps");

private(T) struct bpf_spin_lock tlock;
private(T) struct bpf_rb_root troot __contains(tree_item, node);

static __attribute__((unused)) _Bool tree_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct tree_item *x = container_of(a, struct tree_item, node);
	struct tree_item *y = container_of(b, struct tree_item, node);

	return x->key < y->key;
}

#endif
