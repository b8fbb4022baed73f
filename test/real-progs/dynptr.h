/* Dynptr kfuncs for the real-program corpus, declared as a program built against a newer
 * libbpf (bpf_kfuncs.h) sees them: Debian's libbpf headers predate them. */
#ifndef DYNPTR_H
#define DYNPTR_H
#include <stdbool.h>

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *ptr) __ksym;

#endif
