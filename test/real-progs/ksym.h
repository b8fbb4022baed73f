/* Typed ksyms as tools declare them: per-CPU kernel variables found by name
 * in the kernel's BTF (libbpf puts the variable's BTF id in the lddw).
 * The kernel gives the lddw the variable's address from kallsyms: the
 * recording kernel, built without CONFIG_KALLSYMS_ALL, has no data symbols
 * there and refuses every program below at its first ksym ("ldimm64 failed
 * to find the address for kernel symbol"), which is their recorded verdict
 * (kallsyms.txt). What a kernel with them says, from kernel/bpf/verifier.c
 * (check_pseudo_btf_id, check_ptr_to_btf_access, the helpers' protos), is
 * held by test/verifier-ksym.test.ts. */
#ifndef KSYM_H
#define KSYM_H
#include "real.h"

struct rq {
	int cpu;
	unsigned int nr_running;
} __core;

extern const struct rq runqueues __ksym;     /* per-CPU, a struct */
extern const int bpf_prog_active __ksym;     /* per-CPU, an int */
#endif
