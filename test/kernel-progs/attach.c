// SPDX-License-Identifier: GPL-2.0
/* One program per kind of kernel hook, each counting its hits in `hits`
 * (test/kernel-attach.test.ts attaches them with KernelRuntime and makes
 * the events happen). Tracing programs count only this test's process. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

volatile const __u32 target_pid = 0;

static __always_inline void hit(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_pid;
}

SEC("raw_tp/sys_enter")
int on_raw_tp(void *ctx) { if (mine()) hit(0); return 0; }

SEC("tp_btf/sys_enter")
int on_tp_btf(__u64 *ctx) { if (mine()) hit(1); return 0; }

SEC("fentry/do_sys_openat2")
int on_fentry(__u64 *ctx) { if (mine()) hit(2); return 0; }

SEC("kretprobe/do_sys_openat2")
int on_kretprobe(void *ctx) { if (mine()) hit(3); return 0; }

SEC("uprobe")
int on_uprobe(void *ctx) { if (mine()) hit(4); return 0; }

SEC("xdp")
int on_xdp(struct xdp_md *ctx) { hit(5); return XDP_PASS; }

SEC("tcx/ingress")
int on_tcx(struct __sk_buff *skb) { hit(6); return -1 /* TCX_NEXT */; }

SEC("cgroup_skb/egress")
int on_cgroup(struct __sk_buff *skb) { hit(7); return 1; }

SEC("socket")
int on_socket(struct __sk_buff *skb) { hit(8); return skb->len; }

SEC("tracepoint/syscalls/sys_enter_getuid")
int on_tracepoint(void *ctx) { if (mine()) hit(9); return 0; }

SEC("fexit/do_sys_openat2")
int on_fexit(__u64 *ctx) { if (mine()) hit(10); return 0; }

SEC("perf_event")
int on_perf_event(void *ctx) { hit(11); return 0; }

/* BPF LSM (CONFIG_BPF_LSM and "bpf" in the lsm= list): 0 allows the open */
SEC("lsm/file_open")
int on_lsm(__u64 *ctx) { if (mine()) hit(12); return 0; }

/* fmod_ret on a security hook: 0 keeps the return value */
SEC("fmod_ret/security_file_open")
int on_fmod_ret(__u64 *ctx) { if (mine()) hit(13); return 0; }

SEC("raw_tp/sys_enter")
int on_perf(void *ctx)
{
	__u64 v = 0x7473627066ULL; /* "fpbst" */

	if (mine())
		bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &v, sizeof(v));
	return 0;
}

SEC("raw_tp/sys_enter")
int on_printk(void *ctx)
{
	if (mine())
		bpf_printk("tsbpf-printk %u", target_pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
