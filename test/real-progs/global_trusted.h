/* The global-function argument tags of libbpf's bpf_helpers.h (__arg_trusted,
 * __arg_nullable, __arg_nonnull), spelt out: the BTF decl tags
 * btf_prepare_func_args reads. */
#ifndef GLOBAL_TRUSTED_H
#define GLOBAL_TRUSTED_H
#define __trusted_arg __attribute__((btf_decl_tag("arg:trusted")))
#define __nullable_arg __attribute__((btf_decl_tag("arg:nullable")))
#define __nonnull_arg __attribute__((btf_decl_tag("arg:nonnull")))
#define __global __attribute__((noinline))

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
#endif
