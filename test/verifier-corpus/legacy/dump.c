/*
 * dump: the kernel's older verifier suite (tools/testing/selftests/bpf/verifier/*.c,
 * C initialisers of test_verifier's `struct bpf_test`) as plain text, for
 * convert.ts to turn into corpus cases.
 *
 * The suite's files are not part of this repository: they are #included from an
 * unpacked kernel source at build time (scripts/convert-legacy-verifier.sh writes
 * the list into legacy-files.h and builds this with -I<that source>), so the C
 * compiler evaluates their macros (BPF_* instruction builders, offsetof on the
 * uapi context structs) exactly as test_verifier.c's build does.
 *
 * Output, one record a line, fields separated by tabs:
 *   file NAME                    (the verifier/NAME.c the next tests come from)
 *   test DESCR
 *   prog TYPE ATTACH FLAGS RESULT RESULT_UNPRIV   (RESULT: 1 accept, 2 reject, 3 verbose accept; 0 unset)
 *   kfunc NAME                   (.kfunc: the tracing program's attach target)
 *   fill NAME                    (.fill_helper: test_verifier generates the program at run time)
 *   btf NTYPES                   (.btf_types given: the program is loaded with that BTF)
 *   funcinfo INSN TYPE           (one per .func_info entry)
 *   fixup KIND INSN              (an lddw whose imm test_verifier sets to map KIND's fd)
 *   kfixup NAME INSN             (a kfunc call test_verifier resolves to vmlinux NAME)
 *   insn CODE DST SRC OFF IMM    (the program, up to its last non-zero slot, as test_verifier loads it)
 *   end
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/bpf_perf_event.h>
#include <linux/if_ether.h>
#include <linux/types.h>
#include "../../../include/linux/filter.h"
#include "test_btf.h"

/* The vocabulary the suite's files use (test_verifier.c gives the same meanings). */
#define MAX_INSNS 4096
#define MAX_FIXUPS 8
#define MAX_TEST_RUNS 8
#define MAX_FUNC_INFOS 8
#define MAX_BTF_STRINGS 256
#define MAX_BTF_TYPES 256
#define MAX_PATTERN 32
#define POINTER_VALUE 0xcafe4all
#define TEST_DATA_LEN 64
#define INSN_OFF_MASK ((__s16)0xFFFF)
#define INSN_IMM_MASK ((__s32)0xFFFFFFFF)
#define SKIP_INSNS() BPF_RAW_INSN(0xde, 0xa, 0xd, 0xbeef, 0xdeadbeef)
#define F_NEEDS_EFFICIENT_UNALIGNED_ACCESS (1 << 0)
#define F_LOAD_WITH_STRICT_ALIGNMENT (1 << 1)
#define F_NEEDS_JIT_ENABLED (1 << 2)
#define MAX_ENTRIES 11
#ifndef offsetofend
#define offsetofend(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#endif

/* Preludes some files use: r2/r3 the packet and its end with 8 bytes checked (r0 = 0 first);
 * r7 a random u32 zero-extended (bit 31 clear) or a negative one sign-extended. */
#define BPF_DIRECT_PKT_R2 \
	BPF_MOV64_IMM(BPF_REG_0, 0), \
	BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct __sk_buff, data)), \
	BPF_LDX_MEM(BPF_W, BPF_REG_3, BPF_REG_1, offsetof(struct __sk_buff, data_end)), \
	BPF_MOV64_REG(BPF_REG_4, BPF_REG_2), \
	BPF_ALU64_IMM(BPF_ADD, BPF_REG_4, 8), \
	BPF_JMP_REG(BPF_JLE, BPF_REG_4, BPF_REG_3, 1), \
	BPF_EXIT_INSN()
#define BPF_RAND_UEXT_R7 \
	BPF_EMIT_CALL(BPF_FUNC_get_prandom_u32), \
	BPF_MOV64_REG(BPF_REG_7, BPF_REG_0), \
	BPF_ALU64_IMM(BPF_LSH, BPF_REG_7, 33), \
	BPF_ALU64_IMM(BPF_RSH, BPF_REG_7, 33)
#define BPF_RAND_SEXT_R7 \
	BPF_EMIT_CALL(BPF_FUNC_get_prandom_u32), \
	BPF_MOV64_REG(BPF_REG_7, BPF_REG_0), \
	BPF_ALU64_IMM(BPF_OR, BPF_REG_7, 0x80000000), \
	BPF_ALU64_IMM(BPF_LSH, BPF_REG_7, 32), \
	BPF_ALU64_IMM(BPF_ARSH, BPF_REG_7, 32)

struct test_val {
	unsigned int index;
	int foo[MAX_ENTRIES];
};

struct other_val {
	long long foo;
	long long bar;
};

enum verdict { UNDEF, ACCEPT, REJECT, VERBOSE_ACCEPT };

struct kfunc_fixup {
	const char *kfunc;
	int insn_idx;
};

struct run_data {
	uint32_t retval, retval_unpriv;
	union {
		__u8 data[TEST_DATA_LEN];
		__u64 data64[TEST_DATA_LEN / 8];
	};
};

struct bpf_test {
	const char *descr;
	struct bpf_insn insns[MAX_INSNS];
	struct bpf_insn expected_insns[MAX_PATTERN], unexpected_insns[MAX_PATTERN];
	int fixup_map_hash_8b[MAX_FIXUPS], fixup_map_hash_48b[MAX_FIXUPS], fixup_map_hash_16b[MAX_FIXUPS];
	int fixup_map_array_48b[MAX_FIXUPS], fixup_map_sockmap[MAX_FIXUPS], fixup_map_sockhash[MAX_FIXUPS];
	int fixup_map_xskmap[MAX_FIXUPS], fixup_map_stacktrace[MAX_FIXUPS], fixup_prog1[MAX_FIXUPS];
	int fixup_prog2[MAX_FIXUPS], fixup_map_in_map[MAX_FIXUPS], fixup_cgroup_storage[MAX_FIXUPS];
	int fixup_percpu_cgroup_storage[MAX_FIXUPS], fixup_map_spin_lock[MAX_FIXUPS], fixup_map_array_ro[MAX_FIXUPS];
	int fixup_map_array_wo[MAX_FIXUPS], fixup_map_array_small[MAX_FIXUPS], fixup_sk_storage_map[MAX_FIXUPS];
	int fixup_map_event_output[MAX_FIXUPS], fixup_map_reuseport_array[MAX_FIXUPS], fixup_map_ringbuf[MAX_FIXUPS];
	int fixup_map_timer[MAX_FIXUPS], fixup_map_kptr[MAX_FIXUPS];
	struct kfunc_fixup fixup_kfunc_btf_id[MAX_FIXUPS];
	const char *errstr, *errstr_unpriv;
	uint32_t insn_processed;
	enum verdict result, result_unpriv;
	enum bpf_prog_type prog_type;
	uint8_t flags;
	void (*fill_helper)(struct bpf_test *self);
	int runs;
	union {
		struct run_data;
		struct run_data retvals[MAX_TEST_RUNS];
	};
	enum bpf_attach_type expected_attach_type;
	const char *kfunc;
	struct bpf_func_info func_info[MAX_FUNC_INFOS];
	int func_info_cnt;
	char btf_strings[MAX_BTF_STRINGS];
	__u32 btf_types[MAX_BTF_TYPES];
};

/* Programs test_verifier builds at run time: named here, generated by convert.ts where it can. */
#define FILL(name) static void name(struct bpf_test *self) { (void)self; }
FILL(bpf_fill_ld_abs_vlan_push_pop)
FILL(bpf_fill_jump_around_ld_abs)
FILL(bpf_fill_rand_ld_dw)
FILL(bpf_fill_scale)
FILL(bpf_fill_torturous_jumps)
FILL(bpf_fill_big_prog_with_loop_1)

#define FILE_MARK(name) { .descr = "\001" name },
static struct bpf_test tests[] = {
#include "legacy-files.h"
};

static const char *fill_name(void (*f)(struct bpf_test *))
{
#define N(x) if (f == x) return #x;
	N(bpf_fill_ld_abs_vlan_push_pop) N(bpf_fill_jump_around_ld_abs) N(bpf_fill_rand_ld_dw)
	N(bpf_fill_scale) N(bpf_fill_torturous_jumps) N(bpf_fill_big_prog_with_loop_1)
	return "unknown";
}

static void fixups(const char *kind, const int *at)
{
	for (int i = 0; i < MAX_FIXUPS && at[i]; i++)
		printf("fixup\t%s\t%d\n", kind, at[i]);
}

int main(void)
{
	for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
		struct bpf_test *x = &tests[t];
		int len = MAX_INSNS;
		if (x->descr && x->descr[0] == '\001') {
			printf("file\t%s\n", x->descr + 1);
			continue;
		}
		printf("test\t%s\n", x->descr);
		printf("prog\t%d\t%d\t%d\t%d\t%d\n", x->prog_type, x->expected_attach_type, x->flags, x->result, x->result_unpriv);
		if (x->kfunc)
			printf("kfunc\t%s\n", x->kfunc);
		if (x->fill_helper)
			printf("fill\t%s\n", fill_name(x->fill_helper));
		if (x->btf_types[0]) {
			int n = 0;
			while (n < MAX_BTF_TYPES && x->btf_types[n] != BTF_END_RAW)
				n++;
			printf("btf\t%d\n", n);
		}
		for (int i = 0; i < x->func_info_cnt; i++)
			printf("funcinfo\t%u\t%u\n", x->func_info[i].insn_off, x->func_info[i].type_id);
		fixups("hash_8b", x->fixup_map_hash_8b);
		fixups("hash_48b", x->fixup_map_hash_48b);
		fixups("hash_16b", x->fixup_map_hash_16b);
		fixups("array_48b", x->fixup_map_array_48b);
		fixups("sockmap", x->fixup_map_sockmap);
		fixups("sockhash", x->fixup_map_sockhash);
		fixups("xskmap", x->fixup_map_xskmap);
		fixups("stacktrace", x->fixup_map_stacktrace);
		fixups("prog1", x->fixup_prog1);
		fixups("prog2", x->fixup_prog2);
		fixups("map_in_map", x->fixup_map_in_map);
		fixups("cgroup_storage", x->fixup_cgroup_storage);
		fixups("percpu_cgroup_storage", x->fixup_percpu_cgroup_storage);
		fixups("spin_lock", x->fixup_map_spin_lock);
		fixups("array_ro", x->fixup_map_array_ro);
		fixups("array_wo", x->fixup_map_array_wo);
		fixups("array_small", x->fixup_map_array_small);
		fixups("sk_storage", x->fixup_sk_storage_map);
		fixups("event_output", x->fixup_map_event_output);
		fixups("reuseport_array", x->fixup_map_reuseport_array);
		fixups("ringbuf", x->fixup_map_ringbuf);
		fixups("timer", x->fixup_map_timer);
		fixups("kptr", x->fixup_map_kptr);
		for (int i = 0; i < MAX_FIXUPS && x->fixup_kfunc_btf_id[i].kfunc; i++)
			printf("kfixup\t%s\t%d\n", x->fixup_kfunc_btf_id[i].kfunc, x->fixup_kfunc_btf_id[i].insn_idx);
		/* test_verifier's length: up to the last slot that is not all zero */
		while (len > 0) {
			struct bpf_insn *i = &x->insns[len - 1];
			if (i->code || i->dst_reg || i->src_reg || i->off || i->imm)
				break;
			len--;
		}
		for (int k = 0; k < len; k++) {
			struct bpf_insn *i = &x->insns[k];
			printf("insn\t%u\t%u\t%u\t%d\t%d\n", i->code, i->dst_reg, i->src_reg, i->off, i->imm);
		}
		printf("end\n");
	}
	return 0;
}
