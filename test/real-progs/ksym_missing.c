/* A typed ksym the kernel's BTF does not have: libbpf refuses the object
 * before the kernel sees it, so the kernel gives no verdict.
 * derived verdict: reject (extern (var ksym) 'tsbpf_no_such_percpu_var': not found in kernel BTF) */
#include "ksym.h"

extern const int tsbpf_no_such_percpu_var __ksym;

SEC("raw_tp/sys_enter")
int ksym_missing(void *ctx)
{
	const int *v = bpf_this_cpu_ptr(&tsbpf_no_such_percpu_var);

	return *v;
}
