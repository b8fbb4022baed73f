/* A timer in global data (.bss): libbpf makes the section an array map whose
 * value type is the DATASEC, and Linux finds the timer among its variables;
 * bpf_timer_init is then given another map than the timer's (C cannot name
 * the .bss map). Linux rejects it for that, not for a missing timer. */
#include "timer.h"

struct bpf_timer gtimer;

static int expired(void *map, __u32 *key, void *value)
{
	return 0;
}

SEC("tc")
int timer_global(struct __sk_buff *skb)
{
	bpf_timer_init(&gtimer, &flows, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&gtimer, expired);
	return 0;
}
