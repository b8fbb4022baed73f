// One program per kind of tracing context (src/testing/events.ts): each
// writes what it read of its event into the `seen` array for the test.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct seen {
	__s64 v[8];
	char s[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

static __always_inline struct seen *out(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&seen, &zero);
}

SEC("kprobe/six_args")
int BPF_KPROBE(kp, long a, long b, long c, long d, long e)
{
	struct seen *o = out();
	if (!o)
		return 0;
	o->v[0] = a; o->v[1] = b; o->v[2] = c; o->v[3] = d; o->v[4] = e; o->v[5] = ctx->r9; /* libbpf 1.1 has no PT_REGS_PARM6 */
	o->v[6] = PT_REGS_IP(ctx);
	o->v[7] = PT_REGS_SP(ctx);
	return 0;
}

SEC("kretprobe/six_args")
int BPF_KRETPROBE(krp, long ret)
{
	struct seen *o = out();
	if (o)
		o->v[0] = ret;
	return 0;
}

SEC("ksyscall/openat")
int BPF_KSYSCALL(ks, int dfd, const char *name, int flags, int mode)
{
	struct seen *o = out();
	if (!o)
		return 0;
	o->v[0] = dfd; o->v[1] = flags; o->v[2] = mode;
	bpf_probe_read_user_str(o->s, sizeof(o->s), name);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct trace_event_raw_sys_enter *ctx)
{
	struct seen *o = out();
	if (!o)
		return 0;
	o->v[0] = ctx->id; o->v[1] = ctx->args[0]; o->v[2] = ctx->args[2];
	bpf_probe_read_user_str(o->s, sizeof(o->s), (const char *)ctx->args[1]);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tp_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct seen *o = out();
	if (o)
		o->v[0] = ctx->ret;
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct seen *o = out();
	if (!o)
		return 0;
	unsigned off = ctx->__data_loc_filename & 0xffff;
	o->v[0] = ctx->pid; o->v[1] = ctx->old_pid; o->v[2] = ctx->__data_loc_filename >> 16;
	bpf_probe_read_str(o->s, sizeof(o->s), (void *)ctx + off);
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	struct seen *o = out();
	if (!o)
		return 0;
	o->v[0] = ctx->prev_pid; o->v[1] = ctx->next_pid; o->v[2] = ctx->prev_state; o->v[3] = ctx->next_prio;
	bpf_probe_read_kernel(o->s, 16, ctx->next_comm);
	return 0;
}

SEC("raw_tp/sched_switch")
int raw_switch(struct bpf_raw_tracepoint_args *ctx)
{
	struct seen *o = out();
	if (!o)
		return 0;
	struct task_struct *prev = (struct task_struct *)ctx->args[1];
	struct task_struct *next = (struct task_struct *)ctx->args[2];
	o->v[0] = ctx->args[0];
	o->v[1] = BPF_CORE_READ(prev, pid);
	o->v[2] = BPF_CORE_READ(next, pid);
	o->v[3] = ctx->args[3];
	BPF_CORE_READ_STR_INTO(&o->s, next, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
