/* The list head of a map value is the kernel's: the program may not read it. */
#include "graph.h"

SEC("tc")
int graph_list_head_access(struct __sk_buff *skb)
{
	struct lists *v = lists_value();

	if (!v)
		return 0;
	return *(volatile __u64 *)&v->head;
}
