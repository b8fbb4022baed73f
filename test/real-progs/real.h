/* Kernel types the real-program corpus uses, declared the way libbpf-tools'
 * core_fixes.bpf.h declares them: only the fields a program reads, with
 * preserve_access_index so that every access is a CO-RE relocation that
 * libbpf (and tsbpf) resolve against the running kernel's BTF by name. */
#ifndef REAL_H
#define REAL_H
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define __core __attribute__((preserve_access_index))

struct mm_struct {
	unsigned long total_vm;
} __core;

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	char comm[16];
} __core;

/* the field before Linux 5.14 renamed it to __state */
struct task_struct___o {
	volatile long state;
} __core;

/* today's name, as a flavour of its own */
struct task_struct___x {
	unsigned int __state;
} __core;

struct pt_regs {
	unsigned long di;
	unsigned long si;
} __core;

char LICENSE[] SEC("license") = "GPL";
#endif
