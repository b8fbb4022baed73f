/* bpf_spin_lock takes the object's lock member, nothing else of it. */
#include "graph.h"

SEC("tc")
int graph_obj_lock_wrong_off(struct __sk_buff *skb)
{
	struct elem *e = bpf_obj_new(struct elem);

	if (!e)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&e->data);
	bpf_spin_unlock((struct bpf_spin_lock *)&e->data);
	bpf_obj_drop(e);
	return 0;
}
