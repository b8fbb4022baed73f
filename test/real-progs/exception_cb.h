/* Exception callbacks (__exception_cb, as the selftests' bpf_experimental.h
 * defines it) for the real-program corpus's throw_cb*.c. */
#ifndef EXCEPTION_CB_H
#define EXCEPTION_CB_H
#include "real.h"

extern void bpf_throw(__u64 cookie) __ksym;

#define __exception_cb(name) __attribute__((btf_decl_tag("exception_callback:" #name)))

/* libbpf 1.3+ appends the exception callback to the program; older ones (the
 * 1.1 this corpus is recorded with) only the functions it refers to: an
 * ld_imm64 of the callback on a path the verifier knows is dead brings it in,
 * never walked ("callback function not static" if it were). */
#define KEEP_EXCEPTION_CB(cb) \
	asm volatile("r1 = 0; if r1 == 0 goto 1f; r1 = %[f] ll; 1:" :: [f]"i"(cb) : "r1")
#endif
