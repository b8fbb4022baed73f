/* Map values holding kptrs: a referenced task pointer (`__kptr`, changed only
 * through bpf_kptr_xchg) and an unreferenced one (`__kptr_untrusted`, stored
 * and loaded directly), beside a plain counter. */
#ifndef KPTR_H
#define KPTR_H
#include "real.h"

#define __kptr __attribute__((btf_type_tag("kptr")))
#define __kptr_untrusted __attribute__((btf_type_tag("kptr_untrusted")))

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct task_slot {
	__u64 seen;
	struct task_struct __kptr *task;
	struct task_struct __kptr_untrusted *last;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct task_slot);
} slots SEC(".maps");
#endif
