// A perf_event program that reads its sample context (struct
// bpf_perf_event_data: registers, sample_period, addr) and calls the
// helpers of perf_event programs; it writes what it saw into `seen`.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct seen {
	__u64 ip, sp, arg1, period, addr;
	__s64 read_ret, bad_size_ret, stack_ret, stackid_ret, signal_ret;
	struct bpf_perf_event_value value;
	struct bpf_perf_event_value bad;
	__u64 stack[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 8);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 4 * sizeof(__u64));
} stacks SEC(".maps");

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	struct seen *o = bpf_map_lookup_elem(&seen, &zero);

	if (!o)
		return 0;
	o->ip = PT_REGS_IP(&ctx->regs);
	o->sp = PT_REGS_SP(&ctx->regs);
	o->arg1 = PT_REGS_PARM1(&ctx->regs);
	o->period = ctx->sample_period;
	o->addr = ctx->addr;
	o->read_ret = bpf_perf_prog_read_value(ctx, &o->value, sizeof(o->value));
	o->bad_size_ret = bpf_perf_prog_read_value(ctx, &o->bad, 16);
	o->stack_ret = bpf_get_stack(ctx, o->stack, sizeof(o->stack), 1);
	o->stackid_ret = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	/* a sampler that asks the sampled thread to stop itself past a threshold */
	o->signal_ret = o->period > 1000 ? bpf_send_signal_thread(27 /* SIGPROF */) : 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
