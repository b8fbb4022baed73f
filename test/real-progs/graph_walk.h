/* Linux 6.16's graph peeks: bpf_list_front/back and bpf_rbtree_root/left/right give non-owning
 * references (KF_RET_NULL) to nodes the list or tree keeps, usable under its lock only. */
#ifndef GRAPH_WALK_H
#define GRAPH_WALK_H
#include "graph_rbtree.h"

extern struct bpf_list_node *bpf_list_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_back(struct bpf_list_head *head) __ksym;
extern struct bpf_rb_node *bpf_rbtree_root(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_left(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_right(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;

/* a program adding a new tree_item under the tree's lock with `less` as the callback */
#define RBTREE_ADD_PROG(name, less)						\
SEC("tc")									\
int name(struct __sk_buff *skb)							\
{										\
	struct tree_item *t = bpf_obj_new(struct tree_item);			\
										\
	if (!t)									\
		return 0;							\
	bpf_spin_lock(&tlock);							\
	bpf_rbtree_add(&troot, &t->node, less);					\
	bpf_spin_unlock(&tlock);						\
	return 0;								\
}

#endif
