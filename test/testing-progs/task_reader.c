// Reads the modelled kernel every way a tracing program does: the current
// task through bpf_get_current_task and BPF_CORE_READ, the get_current_*
// helpers, probe reads of an argument (a kernel string, a struct file),
// the clock, a stack and a signal; one ring buffer record per event.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct event {
	__u32 pid, tgid, ppid, uid;
	__u64 pid_tgid, uid_gid, cgroup, ts;
	char comm[16];
	char task_comm[16];
	char name[32];
	char fname[32];
	__s64 name_ret;
	__s64 bad_ret;
	__u8 bad[8];
	__s64 stack_ret;
	__u64 stack[4];
	__u32 flags_bits;
	__u32 in_execve;
};

/* keeps struct event in the object's BTF, for the test to decode records with */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(on_open, int dfd, const char *filename, struct file *file)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, pid);
	e->tgid = BPF_CORE_READ(task, tgid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->in_execve = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
	e->pid_tgid = bpf_get_current_pid_tgid();
	e->uid_gid = bpf_get_current_uid_gid();
	e->cgroup = bpf_get_current_cgroup_id();
	e->ts = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	BPF_CORE_READ_STR_INTO(&e->task_comm, task, comm);
	e->name_ret = bpf_probe_read_kernel_str(e->name, sizeof(e->name), filename);
	const unsigned char *dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(e->fname, sizeof(e->fname), dname);
	e->flags_bits = BPF_CORE_READ(file, f_flags);
	e->bad_ret = bpf_probe_read_kernel(e->bad, sizeof(e->bad), (void *)PT_REGS_PARM4(ctx));
	e->stack_ret = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
	__u32 pid = e->pid;
	if (e->uid == 0)
		bpf_send_signal(9);
	bpf_ringbuf_submit(e, 0);
	return pid;
}

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} counters SEC(".maps");

struct misc_out {
	__s64 read_ret;
	__s64 value_ret;
	struct bpf_perf_event_value value;
	__s64 stack_ret;
	__u64 stack[3];
	__s64 signal_ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct misc_out);
} misc_out SEC(".maps");

/* arg1: perf slot flags, arg2: get_stack flags, arg3: signal */
SEC("kprobe/misc")
int misc(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct misc_out *o = bpf_map_lookup_elem(&misc_out, &zero);
	if (!o)
		return 0;
	__u64 slot = PT_REGS_PARM1(ctx);
	o->read_ret = bpf_perf_event_read(&counters, slot);
	o->value_ret = bpf_perf_event_read_value(&counters, slot, &o->value, sizeof(o->value));
	o->stack_ret = bpf_get_stack(ctx, o->stack, sizeof(o->stack), PT_REGS_PARM2(ctx));
	o->signal_ret = bpf_send_signal(PT_REGS_PARM3(ctx));
	return 0;
}
