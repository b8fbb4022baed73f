// SPDX-License-Identifier: GPL-2.0
/* prog_array ownership on the running kernel, with raw bpf(2) calls (a host
 * program, not BPF): test/sandbox-prog-array.test.ts runs the same scenario
 * through tsbpf and compares the lines this prints. Each step prints
 * "<step>: ok" or "<step>: <errno name>". */
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <stdio.h>
#include <errno.h>

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static void report(const char *step, long r)
{
	printf("%s: %s\n", step, r >= 0 ? "ok" : errno == EINVAL ? "EINVAL" : strerror(errno));
}

/* r0 = 2; or, with a map: bpf_tail_call(ctx, map, 0); r0 = 2 */
static int load(int type, int attach_type, int map_fd)
{
	struct bpf_insn tail[] = {
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 2, .src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach_type;
	a.insns = (unsigned long)(map_fd >= 0 ? tail : tail + 4);
	a.insn_cnt = map_fd >= 0 ? 6 : 2;
	a.license = (unsigned long)"GPL";
	return sys_bpf(BPF_PROG_LOAD, &a);
}

static long insert(int map_fd, __u32 key, int prog_fd)
{
	union bpf_attr a;
	__u32 v = prog_fd;

	memset(&a, 0, sizeof(a));
	a.map_fd = map_fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&v;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

int main(void)
{
	union bpf_attr a;
	int map, owner, bare, xdp, tc;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_PROG_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 2;
	map = sys_bpf(BPF_MAP_CREATE, &a);
	if (map < 0) {
		perror("BPF_MAP_CREATE");
		return 1;
	}
	owner = load(BPF_PROG_TYPE_XDP, BPF_XDP, map);
	report("load xdp (BPF_XDP) using the array", owner);
	report("load sched_cls using the array", load(BPF_PROG_TYPE_SCHED_CLS, 0, map));
	report("load xdp (no attach type) using the array", load(BPF_PROG_TYPE_XDP, 0, map));
	bare = load(BPF_PROG_TYPE_XDP, 0, -1);
	xdp = load(BPF_PROG_TYPE_XDP, BPF_XDP, -1);
	tc = load(BPF_PROG_TYPE_SCHED_CLS, 0, -1);
	if (bare < 0 || xdp < 0 || tc < 0) {
		perror("BPF_PROG_LOAD");
		return 1;
	}
	report("insert xdp (no attach type)", insert(map, 0, bare));
	report("insert xdp (BPF_XDP)", insert(map, 0, xdp));
	report("insert sched_cls", insert(map, 1, tc));
	return 0;
}
