/* A search down an rbtree from bpf_rbtree_root by bpf_rbtree_left/right, under the tree's lock;
 * the node found is taken out (bpf_rbtree_remove) and dropped after the unlock. */
#include "graph_walk.h"

SEC("tc")
int graph_rbtree_walk(struct __sk_buff *skb)
{
	struct bpf_rb_node *n, *found = NULL;
	__u64 key = skb->len;
	int i;

	bpf_spin_lock(&tlock);
	n = bpf_rbtree_root(&troot);
	for (i = 0; i < 16 && n; i++) {
		struct tree_item *t = container_of(n, struct tree_item, node);

		if (t->key == key) {
			found = bpf_rbtree_remove(&troot, n);
			break;
		}
		n = t->key > key ? bpf_rbtree_left(&troot, n) : bpf_rbtree_right(&troot, n);
	}
	bpf_spin_unlock(&tlock);
	if (found)
		bpf_obj_drop(container_of(found, struct tree_item, node));
	return 0;
}
