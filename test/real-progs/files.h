/* File types as tools that print paths see them (d_path, sock_from_file):
 * only the fields a program reads, relocated by name (real.h's __core). */
#ifndef FILES_H
#define FILES_H
#include "iter.h"

struct path {
	void *mnt;
} __core;

struct file {
	struct path f_path;
} __core;

struct socket {
	short type;
} __core;

struct linux_binprm {
	struct file *file;
} __core;

struct bpf_iter__task_file {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
	__u32 fd;
	union {
		struct file *file;
	};
} __core;
#endif
