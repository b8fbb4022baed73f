// SPDX-License-Identifier: GPL-2.0
/* Multi-probe programs for test/kernel-multi-probe.test.ts: each counts its
 * hits in `hits` at an index made of its attach cookie, so the test sees
 * which function fired how often. TARGET is the path of the built
 * multi_target binary, given with -DTARGET=... for the auto-attached one. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* entries: hits[cookie] */
SEC("uprobe.multi")
int on_multi(void *ctx) { hit(bpf_get_attach_cookie(ctx) & 7); return 0; }

/* returns: hits[8 + cookie] */
SEC("uretprobe.multi")
int on_multi_ret(void *ctx) { hit(8 + (bpf_get_attach_cookie(ctx) & 3)); return 0; }

/* auto-attached by its section, every tsbpf_fn_* of TARGET: hits[12] */
SEC("uprobe.multi/" TARGET ":tsbpf_fn_*")
int on_auto(void *ctx) { hit(12); return 0; }

/* kernel functions: hits[13] */
SEC("kprobe.multi/do_sys_openat2")
int on_kmulti(void *ctx) { hit(13); return 0; }

/* plain kprobe: hits[14] */
SEC("kprobe/do_sys_openat2")
int on_kprobe(void *ctx) { hit(14); return 0; }

char LICENSE[] SEC("license") = "GPL";
