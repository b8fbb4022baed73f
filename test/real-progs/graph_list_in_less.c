/* Inside bpf_rbtree_add's less callback, a list under another lock than the one held. */
#include "graph_walk.h"

static _Bool less_list(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return bpf_list_front(&ghead) != NULL;
}

SEC("tc")
int graph_list_in_less(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_spin_lock(&tlock);
	bpf_rbtree_add(&troot, &t->node, less_list);
	bpf_spin_unlock(&tlock);
	return 0;
}
