/* Inside bpf_rbtree_add's less callback: an object allocated and dropped again. */
#include "graph_walk.h"

static _Bool less_new(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (t)
		bpf_obj_drop(t);
	return 0;
}

RBTREE_ADD_PROG(graph_rbtree_new_in_less, less_new)
