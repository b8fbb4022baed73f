// SPDX-License-Identifier: GPL-2.0
/* A native program for test/kernel-multi-probe.test.ts: it waits for a byte
 * on stdin (the probes are attached by then), calls tsbpf_fn_a 3 times,
 * tsbpf_fn_b 5 times and tsbpf_other 7 times, and prints the value of its
 * USDT-style semaphore (which the kernel raises while a uprobe with that
 * ref_ctr_offset is attached) and a sum that keeps the calls alive. */
#include <stdio.h>
#include <unistd.h>

/* in a written section of the file, as sys/sdt.h puts USDT semaphores */
__attribute__((section(".probes"), used)) volatile unsigned short tsbpf_sema = 0;

__attribute__((noinline)) int tsbpf_fn_a(int x) { __asm__ volatile("" ::: "memory"); return x + 1; }
__attribute__((noinline)) int tsbpf_fn_b(int x) { __asm__ volatile("" ::: "memory"); return x * 2; }
__attribute__((noinline)) int tsbpf_other(int x) { __asm__ volatile("" ::: "memory"); return x - 1; }

int main(void)
{
	char c;
	int s = 0;

	if (read(0, &c, 1) != 1)
		return 1;
	for (int i = 0; i < 3; i++) s += tsbpf_fn_a(i);
	for (int i = 0; i < 5; i++) s += tsbpf_fn_b(i);
	for (int i = 0; i < 7; i++) s += tsbpf_other(i);
	printf("%u %d\n", (unsigned)tsbpf_sema, s);
	return 0;
}
