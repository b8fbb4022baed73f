/* CO-RE relocations of every kind, against local (flavored, partial) kernel types. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct pt_regs {
	unsigned long si;
	unsigned long di;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
} __attribute__((preserve_access_index));

struct task_struct___flavor {
	int tgid;
	long no_such_field;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned int len;
	unsigned char pkt_type : 3;
} __attribute__((preserve_access_index));

struct no_such_type___x {
	int a;
} __attribute__((preserve_access_index));

enum bpf_func_id___x {
	BPF_FUNC_ringbuf_output___x = 1,
	BPF_FUNC_not_a_helper___x = 2,
};

long results[16];

SEC("kprobe/do_nanosleep")
int core_prog(struct pt_regs *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct sk_buff *skb = (void *)ctx->si;

	results[0] = BPF_CORE_READ(t, real_parent, tgid);
	results[1] = ctx->di;
	results[2] = bpf_core_field_exists(((struct task_struct___flavor *)t)->no_such_field);
	results[3] = bpf_core_field_exists(((struct task_struct___flavor *)t)->tgid);
	results[4] = bpf_core_type_exists(struct no_such_type___x);
	results[5] = bpf_core_type_size(struct task_struct);
	results[6] = bpf_core_enum_value(enum bpf_func_id___x, BPF_FUNC_ringbuf_output___x);
	results[7] = bpf_core_enum_value_exists(enum bpf_func_id___x, BPF_FUNC_not_a_helper___x);
	results[8] = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	results[9] = bpf_core_field_size(t->real_parent);
	results[10] = bpf_core_field_offset(struct task_struct___flavor, tgid);
	results[11] = bpf_core_type_id_kernel(struct task_struct);
	results[12] = __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
	results[13] = bpf_core_type_matches(struct pt_regs);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
