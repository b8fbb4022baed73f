/* uprobe.s: a sleepable program, but the copy sits inside an RCU read
 * section. Linux rejects it: "sleepable helper bpf_copy_from_user#148 in
 * rcu_read_lock region". */
#include "real.h"

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("uprobe.s")
int helper_copy_from_user_rcu(struct pt_regs *ctx)
{
	char buf[16];
	long err;

	bpf_rcu_read_lock();
	err = bpf_copy_from_user(buf, sizeof(buf), (void *)ctx->di);
	bpf_rcu_read_unlock();
	return err == 0 && buf[0] == '/';
}
