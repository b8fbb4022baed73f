// sched_process_exec through its raw tracepoint and through tp_btf: the
// task, the old pid and the linux_binprm as the kernel hands them over,
// read with BPF_CORE_READ (raw_tp) and with direct loads of BTF pointers
// (tp_btf). test/testing-kernel-diff.test.ts runs both in Linux on a real
// execve and in the kit on the same values, and compares the records.
#include <linux/bpf.h>
#include "../../include/tsbpf/kernel-model.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct exec_rec {
	__u32 kind; /* 1: raw_tp, 2: tp_btf */
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 old_pid;
	__u32 uid;
	char comm[16];
	char filename[64];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("raw_tp/sched_process_exec")
int BPF_PROG(raw_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_rec r = {};

	r.kind = 1;
	r.pid = BPF_CORE_READ(p, pid);
	r.tgid = BPF_CORE_READ(p, tgid);
	r.ppid = BPF_CORE_READ(p, real_parent, tgid);
	r.old_pid = old_pid;
	r.uid = BPF_CORE_READ(p, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&r.comm, p, comm);
	bpf_probe_read_kernel_str(r.filename, sizeof(r.filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_output(&events, &r, sizeof(r), 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(btf_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_rec r = {};

	r.kind = 2;
	r.pid = p->pid;
	r.tgid = p->tgid;
	r.ppid = p->real_parent->tgid;
	r.old_pid = old_pid;
	r.uid = p->cred->uid.val;
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), p->comm);
	bpf_probe_read_kernel_str(r.filename, sizeof(r.filename), bprm->filename);
	bpf_ringbuf_output(&events, &r, sizeof(r), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
