/* Iterator contexts as libbpf-bootstrap's task_iter and bpftool's iterators
 * declare them (from vmlinux.h): struct bpf_iter__<target>, relocated by
 * name against the running kernel's BTF. */
#ifndef ITER_H
#define ITER_H
#include "sock.h"

struct seq_file;

struct bpf_iter_meta {
	union {
		struct seq_file *seq;
	};
	__u64 session_id;
	__u64 seq_num;
} __core;

struct bpf_iter__task {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
} __core;

struct bpf_iter__tcp {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct sock_common *sk_common;
	};
	__u32 uid;
} __core;
#endif
