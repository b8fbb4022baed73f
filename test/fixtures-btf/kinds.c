/* Every BTF kind clang emits: tsbpf's BTF parser and dumper fixtures. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

typedef unsigned long long u64;
typedef unsigned int u32;
typedef signed char s8;

struct opaque; /* fwd */
union opaque_u; /* fwd union */

enum color { RED, GREEN = 5, BLUE = 10 };
enum neg { NEG_A = -3, NEG_B = 7 };
enum big64 : unsigned long long { BIG_A = 1, BIG_B = 0xffffffff00000000ULL };
enum sbig64 : long long { SBIG_A = -1, SBIG_B = 0x100000000LL };

struct flags {
	unsigned int a : 3;
	unsigned int b : 5;
	int c : 7;
	unsigned long long d : 40;
	_Bool e;
	char name[6];
} __tag("flags_tag");

union both {
	u32 w;
	unsigned char b[4];
	struct { short lo, hi; };
};

struct value {
	u64 count;
	s8 small;
	const volatile int cv;
	float f;
	double d;
	enum color col;
	enum big64 big;
	struct flags fl;
	union both u;
	struct opaque *op;
	union opaque_u *opu;
	int __ttag("user") *up;
	char *restrict rp;
	int matrix[2][3];
	int (*fn)(int, char *);
} __attribute__((aligned(8)));

struct packed_s {
	char c;
	int i;
} __attribute__((packed));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, struct value);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct packed_s);
} packed SEC(".maps");

/* A value bpftool 7.1 can format (it has no float support). */
struct mixed {
	u64 count;
	s8 small;
	enum color col;
	enum neg ng;
	enum big64 big;
	struct flags fl;
	union both u;
	struct opaque *op;
	int matrix[2][3];
	char name[8];
	_Bool b;
	unsigned char mac[6];
	long long sll;
	unsigned __int128 wide;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct flags);
	__type(value, struct mixed);
} mixed SEC(".maps");

int global_counter __tag("counter_tag") = 1;
static volatile const int rodata_limit = 42;
enum neg last_neg;
enum sbig64 last_sbig;
char bss_buf[16];

static __attribute__((noinline)) int helper(int x __tag("param_tag"), struct value *v) __tag("func_tag")
{
	if (v)
		return x + (int)v->count;
	return x * 2;
}

SEC("xdp")
int kinds_prog(struct xdp_md *ctx)
{
	u32 key = 0;
	struct value *v = bpf_map_lookup_elem(&values, &key);
	int r = helper(ctx->ingress_ifindex, v);

	if (v) {
		v->count++;
		v->fl.a = 3;
		last_neg = NEG_A;
		last_sbig = SBIG_B;
	}
	global_counter += r + rodata_limit;
	bss_buf[0] = (char)r;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
