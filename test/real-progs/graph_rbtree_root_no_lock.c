/* bpf_rbtree_root wants the tree's lock held. */
#include "graph_walk.h"

SEC("tc")
int graph_rbtree_root_no_lock(struct __sk_buff *skb)
{
	return bpf_rbtree_root(&troot) ? 1 : 0;
}
