/* tp_btf/sched_switch: __arg_nullable on a plain memory pointer (not
 * __arg_trusted): btf_prepare_func_args refuses the combination, memory
 * arguments being NULL-able already. Linux refuses it. */
#include "real.h"
#include "global_trusted.h"

__global int first(int *p __nullable_arg)
{
	return p ? *p : 0;
}

SEC("tp_btf/sched_switch")
int global_nullable_mem(unsigned long long *ctx)
{
	int x = 1;

	return first(&x);
}
