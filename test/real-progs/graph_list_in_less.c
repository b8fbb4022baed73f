/* Inside bpf_rbtree_add's less callback, a list under another lock than the one held. */
#include "graph_walk.h"

static _Bool less_list(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return bpf_list_front(&ghead) != NULL;
}

RBTREE_ADD_PROG(graph_list_in_less, less_list)
