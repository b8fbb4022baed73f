/* An object without a lock member has no lock to take. */
#include "graph.h"

SEC("tc")
int graph_obj_lock_none(struct __sk_buff *skb)
{
	struct point *l = bpf_obj_new(struct point);

	if (!l)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&l->y);
	bpf_spin_unlock((struct bpf_spin_lock *)&l->y);
	bpf_obj_drop(l);
	return 0;
}
