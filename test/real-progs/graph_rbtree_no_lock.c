/* An rbtree operation needs the lock beside the root held. */
#include "graph_rbtree.h"

SEC("tc")
int graph_rbtree_no_lock(struct __sk_buff *skb)
{
	struct tree_item *t = bpf_obj_new(struct tree_item);

	if (!t)
		return 0;
	bpf_rbtree_add(&troot, &t->node, tree_less);
	return 0;
}
