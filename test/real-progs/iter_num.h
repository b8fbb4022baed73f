/* Open-coded iterators for the real-program corpus. Debian's libbpf 1.1 predates libbpf's
 * bpf_for/bpf_repeat/bpf_for_each macros (bpf_helpers.h, libbpf 1.2+), so this header declares
 * the kfuncs as a program built against a newer libbpf sees them and gives loops of the same
 * shape: an iterator on the stack, _new before the loop, _next at its head and _destroy when
 * the iterator's scope ends (clang's cleanup attribute), whichever way the loop is left. */
#ifndef ITER_NUM_H
#define ITER_NUM_H

struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

struct bpf_iter_bits {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;
extern int bpf_iter_bits_new(struct bpf_iter_bits *it, const __u64 *unsafe_ptr__ign, __u32 nr_words) __ksym;
extern int *bpf_iter_bits_next(struct bpf_iter_bits *it) __ksym;
extern void bpf_iter_bits_destroy(struct bpf_iter_bits *it) __ksym;

#define ITER_CAT_(a, b) a##b
#define ITER_CAT(a, b) ITER_CAT_(a, b)
#define ITER_VAR ITER_CAT(iter_, __COUNTER__)

/* for (int i = start; i < end; i++), the verifier seeing one iteration, not end - start */
#define for_range(i, start, end) for_range_(i, start, end, ITER_VAR)
#define for_range_(i, start, end, it)                                                             \
	for (struct bpf_iter_num it __attribute__((cleanup(bpf_iter_num_destroy))),                \
	     *it##_once = (bpf_iter_num_new(&it, (start), (end)), &it);                              \
	     it##_once; it##_once = (void *)0)                                                       \
		for (int *it##_p; (it##_p = bpf_iter_num_next(&it)) && ((i) = *it##_p, 1);)

/* each set bit of nr_words 64-bit words at words, lowest first */
#define for_each_bit(bit, words, nr_words) for_each_bit_(bit, words, nr_words, ITER_VAR)
#define for_each_bit_(bit, words, nr_words, it)                                                   \
	for (struct bpf_iter_bits it __attribute__((cleanup(bpf_iter_bits_destroy))),              \
	     *it##_once = (bpf_iter_bits_new(&it, (words), (nr_words)), &it);                        \
	     it##_once; it##_once = (void *)0)                                                       \
		for (int *it##_p; (it##_p = bpf_iter_bits_next(&it)) && ((bit) = *it##_p, 1);)

#endif
