// SPDX-License-Identifier: GPL-2.0
/* kfuncs and typed ksyms for test/kernel-ksyms.test.ts: `vm` calls vmlinux
 * kfuncs only; `mod` calls a kfunc and takes the address of a variable that
 * the test's module BTF defines (mod_kfunc, mod_var); `weak` takes the
 * addresses of a kfunc vmlinux has and of a weak one no kernel has (what
 * bpf_ksym_exists() does) and calls each only if it exists. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern int mod_kfunc(int x) __ksym;
extern const int mod_var __ksym;
struct task_struct;
extern struct task_struct *bpf_task_from_pid(int pid) __weak __ksym;
extern void bpf_task_release(struct task_struct *p) __weak __ksym;
extern int tsbpf_no_such_kfunc(int x) __weak __ksym;

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

SEC("tc")
int weak(struct __sk_buff *skb)
{
	int r = 0;

	if (!!bpf_task_from_pid) {
		struct task_struct *t = bpf_task_from_pid(1);

		if (t)
			bpf_task_release(t);
		r |= 1;
	}
	if (!!tsbpf_no_such_kfunc)
		r |= tsbpf_no_such_kfunc(1) | 2;
	return r;
}

char LICENSE[] SEC("license") = "GPL";
