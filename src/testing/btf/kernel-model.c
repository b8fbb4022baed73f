/*
 * The small kernel tsbpf ships for testing tracing programs without a
 * vmlinux BTF (src/testing/kernel-btf.ts): the kernel types libbpf-tools
 * style programs read, with the fields they read. Struct layouts are this
 * file's own (a program built with CO-RE against vmlinux.h is relocated to
 * them); the tracepoint records and struct pt_regs are Linux's x86-64
 * layouts, field for field (test/testing-model.test.ts compares them with
 * the context BTF tsbpf records from a real kernel), because programs read
 * those through the context without CO-RE.
 *
 * Build: scripts/build-kernel-model.sh (clang-19 -g; the BTF of the object
 * becomes src/testing/kernel-btf-data.ts).
 */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed int s32;
typedef long long s64;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef struct {
	s64 counter;
} atomic64_t;
typedef unsigned short umode_t;
typedef long long loff_t;
typedef unsigned long size_t;

typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;

struct qstr {
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
};

struct inode {
	umode_t i_mode;
	kuid_t i_uid;
	kgid_t i_gid;
	unsigned int i_flags;
	unsigned long i_ino;
	loff_t i_size;
};

struct dentry {
	unsigned int d_flags;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	unsigned char d_iname[40];
};

struct vfsmount {
	struct dentry *mnt_root;
	int mnt_flags;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	loff_t f_pos;
};

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
};

struct mm_struct {
	unsigned long start_code, end_code, start_data, end_data;
	unsigned long start_brk, brk, start_stack;
	unsigned long arg_start, arg_end, env_start, env_end;
	unsigned long total_vm;
	struct file *exe_file;
};

struct ns_common {
	unsigned int inum;
};

struct pid_namespace {
	unsigned int level;
	struct ns_common ns;
};

struct mnt_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct mnt_namespace *mnt_ns;
	struct pid_namespace *pid_ns_for_children;
};

struct kernfs_node {
	const char *name;
	u64 id;
};

struct cgroup {
	struct kernfs_node *kn;
	int level;
	/* ancestors[level] is the cgroup itself (cgroup_ancestor, cgroup_is_descendant) */
	struct cgroup *ancestors[0];
};

struct css_set {
	struct cgroup *dfl_cgrp;
};

struct files_struct {
	int next_fd;
};

struct signal_struct {
	int nr_threads;
	int group_exit_code;
};

struct thread_info {
	unsigned long flags;
	u32 cpu;
};

struct task_struct {
	struct thread_info thread_info;
	unsigned int __state;
	unsigned int flags;
	int on_cpu;
	int prio;
	int static_prio;
	int normal_prio;
	unsigned int policy;
	unsigned sched_reset_on_fork:1;
	unsigned sched_contributes_to_load:1;
	unsigned in_execve:1;
	unsigned in_iowait:1;
	int exit_state;
	int exit_code;
	int exit_signal;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *parent;
	struct task_struct *group_leader;
	u64 utime;
	u64 stime;
	u64 start_time;
	u64 start_boottime;
	const struct cred *real_cred;
	const struct cred *cred;
	char comm[16];
	struct mm_struct *mm;
	struct mm_struct *active_mm;
	struct files_struct *files;
	struct nsproxy *nsproxy;
	struct signal_struct *signal;
	struct css_set *cgroups;
	void *stack;
};

struct linux_binprm {
	struct mm_struct *mm;
	struct file *file;
	const char *filename;
	const char *interp;
	int argc;
	int envc;
};

struct request_queue {
	int id;
};

struct gendisk {
	int major;
	int first_minor;
	char disk_name[32];
};

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	u64 __sector;
	unsigned int __data_len;
	u64 start_time_ns;
	struct gendisk *rq_disk;
};

struct sock_common {
	u32 skc_daddr;
	u32 skc_rcv_saddr;
	u16 skc_dport;
	u16 skc_num;
	u16 skc_family;
	volatile unsigned char skc_state;
	/* the protocol's operations: &tcp_prot, &tcpv6_prot, ... (bpf_skc_to_tcp_timewait_sock compares it) */
	struct proto *skc_prot;
	/* sock_gen_cookie's cache: 0 until a cookie is asked for */
	atomic64_t skc_cookie;
};

struct sock {
	struct sock_common __sk_common;
	int sk_rcvbuf;
	int sk_sndbuf;
	u16 sk_type;
	u16 sk_protocol;
};

/* The sockets a struct sock * may be the start of (bpf_skc_to_*): each begins with the one before. */
struct inet_sock {
	struct sock sk;
	u16 inet_sport;
};

struct inet_connection_sock {
	struct inet_sock icsk_inet;
};

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	u32 srtt_us;
};

struct tcp6_sock {
	struct tcp_sock tcp;
};

struct udp_sock {
	struct inet_sock inet;
};

struct udp6_sock {
	struct udp_sock udp;
};

struct unix_sock {
	struct sock sk;
};

/* timewait and request sockets share only sock_common with full sockets */
struct inet_timewait_sock {
	struct sock_common __tw_common;
};

struct tcp_timewait_sock {
	struct inet_timewait_sock tw_sk;
};

struct request_sock {
	struct sock_common __req_common;
};

struct inet_request_sock {
	struct request_sock req;
};

struct tcp_request_sock {
	struct inet_request_sock req;
};

/* Linux's layouts (x86-64), as programs read them through the context. */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip;
	union {
		u16 cs;
		u64 csx;
	};
	unsigned long flags, sp;
	union {
		u16 ss;
		u64 ssx;
	};
};

/* arm64's user_pt_regs, what PT_REGS_PARM reads with __TARGET_ARCH_arm64 */
struct user_pt_regs {
	u64 regs[31];
	u64 sp;
	u64 pc;
	u64 pstate;
};

/* include/uapi/linux/bpf_perf_event.h: a perf_event program's context, the sampled registers (x86-64's bpf_user_pt_regs_t is struct pt_regs) and the sample */
typedef struct pt_regs bpf_user_pt_regs_t;
struct bpf_perf_event_data {
	bpf_user_pt_regs_t regs;
	u64 sample_period;
	u64 addr;
};

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
	char __data[0];
};

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
	char __data[0];
};

struct trace_event_raw_sched_process_exec {
	struct trace_entry ent;
	u32 __data_loc_filename;
	pid_t pid;
	pid_t old_pid;
	char __data[0];
};

struct trace_event_raw_sched_switch {
	struct trace_entry ent;
	char prev_comm[16];
	pid_t prev_pid;
	int prev_prio;
	long prev_state;
	char next_comm[16];
	pid_t next_pid;
	int next_prio;
	char __data[0];
};

struct trace_event_raw_sched_process_fork {
	struct trace_entry ent;
	u32 __data_loc_parent_comm;
	pid_t parent_pid;
	u32 __data_loc_child_comm;
	pid_t child_pid;
	char __data[0];
};

struct trace_event_raw_sched_process_exit {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
	bool group_dead;
	char __data[0];
};

struct trace_event_raw_sched_wakeup_template {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
	int target_cpu;
	char __data[0];
};

/* DEFINE_EVENT(tcp_event_sk, tcp_destroy_sock ...): the class's record, as 6.18 lays it out */
struct trace_event_raw_tcp_event_sk {
	struct trace_entry ent;
	const void *skaddr;
	u16 sport;
	u16 dport;
	u16 family;
	u8 saddr[4];
	u8 daddr[4];
	u8 saddr_v6[16];
	u8 daddr_v6[16];
	u64 sock_cookie;
	char __data[0];
};

/* bpf iterators (kernel/bpf/bpf_iter.c, task_iter.c): the seq_file an iterator
 * writes to, the meta every iterator context starts with, and the task
 * target's context; bpf_iter_task (DEFINE_BPF_ITER_FUNC) types it. */
struct seq_operations;
struct seq_file {
	char *buf;
	size_t size;
	size_t from;
	size_t count;
	size_t pad_until;
	loff_t index;
	loff_t read_pos;
	const struct seq_operations *op;
	int poll_event;
	const struct file *file;
	void *private;
};

struct bpf_iter_meta {
	union {
		struct seq_file *seq;
	};
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
};

int bpf_iter_task(struct bpf_iter_meta *meta, struct task_struct *task)
{
	return 0;
}

/* The kfuncs the kit runs (src/helpers/object-kfuncs.ts), tagged as the kernel's __bpf_kfunc
 * tags them, so that a program may take their addresses (bpf_ksym_exists) and
 * `tsbpf btf dump ... format c --kfuncs` declares them. */
#define __bpf_kfunc __attribute__((btf_decl_tag("bpf_kfunc")))
__bpf_kfunc struct task_struct *bpf_task_from_pid(s32 pid)
{
	return 0;
}

__bpf_kfunc struct task_struct *bpf_task_acquire(struct task_struct *p)
{
	return p;
}

__bpf_kfunc void bpf_task_release(struct task_struct *p)
{
}

__bpf_kfunc struct cgroup *bpf_cgroup_acquire(struct cgroup *cgrp)
{
	return cgrp;
}

__bpf_kfunc void bpf_cgroup_release(struct cgroup *cgrp)
{
}

/* tp_btf / raw_tp targets: the tracepoints' handler prototypes (btf_trace_<name>) */
typedef void (*btf_trace_sched_switch)(void *, bool, struct task_struct *, struct task_struct *, unsigned int);
typedef void (*btf_trace_sched_wakeup)(void *, struct task_struct *);
typedef void (*btf_trace_tcp_destroy_sock)(void *, struct sock *);
typedef void (*btf_trace_sched_wakeup_new)(void *, struct task_struct *);
typedef void (*btf_trace_sched_process_exec)(void *, struct task_struct *, pid_t, struct linux_binprm *);
typedef void (*btf_trace_sched_process_fork)(void *, struct task_struct *, struct task_struct *);
typedef void (*btf_trace_sched_process_exit)(void *, struct task_struct *, bool);
typedef void (*btf_trace_sys_enter)(void *, struct pt_regs *, long);
typedef void (*btf_trace_sys_exit)(void *, struct pt_regs *, long);
typedef void (*btf_trace_block_rq_issue)(void *, struct request *);
typedef void (*btf_trace_block_rq_complete)(void *, struct request *, int, unsigned int);

/* One use of each type by value, so that clang -g emits each whole in the object's BTF (a type reached only through pointers may come out as a forward declaration). */
struct kernel_model_types {
	struct qstr qstr_;
	struct inode inode_;
	struct dentry dentry_;
	struct vfsmount vfsmount_;
	struct path path_;
	struct cred cred_;
	struct mm_struct mm_struct_;
	struct ns_common ns_common_;
	struct pid_namespace pid_namespace_;
	struct mnt_namespace mnt_namespace_;
	struct nsproxy nsproxy_;
	struct kernfs_node kernfs_node_;
	struct cgroup cgroup_;
	struct css_set css_set_;
	struct files_struct files_struct_;
	struct signal_struct signal_struct_;
	struct thread_info thread_info_;
	struct request_queue request_queue_;
	struct gendisk gendisk_;
	struct sock_common sock_common_;
	struct trace_entry trace_entry_;
	struct task_struct task;
	struct linux_binprm bprm;
	struct file file;
	struct request rq;
	struct sock sk;
	struct tcp_sock tcp_sock_;
	struct tcp6_sock tcp6_sock_;
	struct udp6_sock udp6_sock_;
	struct unix_sock unix_sock_;
	struct tcp_timewait_sock tcp_timewait_sock_;
	struct tcp_request_sock tcp_request_sock_;
	struct pt_regs regs;
	struct user_pt_regs uregs;
	struct bpf_perf_event_data perf_event_data;
	struct trace_event_raw_sys_enter sys_enter;
	struct trace_event_raw_sys_exit sys_exit;
	struct trace_event_raw_sched_process_exec sched_process_exec;
	struct trace_event_raw_sched_switch sched_switch;
	struct trace_event_raw_sched_process_fork sched_process_fork;
	struct trace_event_raw_sched_process_exit sched_process_exit;
	struct trace_event_raw_sched_wakeup_template sched_wakeup;
	struct trace_event_raw_tcp_event_sk tcp_event_sk;
	btf_trace_sched_switch tp_sched_switch;
	btf_trace_sched_wakeup tp_sched_wakeup;
	btf_trace_sched_wakeup_new tp_sched_wakeup_new;
	btf_trace_sched_process_exec tp_sched_process_exec;
	btf_trace_sched_process_fork tp_sched_process_fork;
	btf_trace_sched_process_exit tp_sched_process_exit;
	btf_trace_sys_enter tp_sys_enter;
	btf_trace_sys_exit tp_sys_exit;
	btf_trace_block_rq_issue tp_block_rq_issue;
	btf_trace_block_rq_complete tp_block_rq_complete;
	btf_trace_tcp_destroy_sock tp_tcp_destroy_sock;
	struct bpf_iter__task iter_task;
	struct seq_file seq_file_;
};

struct kernel_model_types kernel_model_types;
