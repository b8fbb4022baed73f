// SPDX-License-Identifier: GPL-2.0
/* kfuncs and typed ksyms for test/kernel-ksyms.test.ts: `vm` calls vmlinux
 * kfuncs only; `mod` calls a kfunc and takes the address of a variable that
 * the test's module BTF defines (mod_kfunc, mod_var). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int mod_kfunc(int x) __ksym;
extern const int mod_var __ksym;

SEC("tc")
int vm(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	return 0;
}

SEC("tc")
int mod(struct __sk_buff *skb)
{
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	const volatile int *p = &mod_var;

	return mod_kfunc(1) + (int)(long)p;
}

char LICENSE[] SEC("license") = "GPL";
