// SPDX-License-Identifier: MIT
/*
 * Policy programs (src/hooks/lsm.ts): refuse opening the files, connecting
 * to the ports and spawning the programs the host lists in the maps, with
 * the errno stored there (EPERM = 1, EACCES = 13, ...). The context is the
 * operation's arguments as u64s, read with libbpf's BPF_PROG macro.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define PATH_LEN 64

/* path -> errno */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[PATH_LEN]);
	__type(value, __s32);
} denied_files SEC(".maps");

/* port -> errno */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __s32);
} denied_ports SEC(".maps");

/* program file -> errno */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[PATH_LEN]);
	__type(value, __s32);
} denied_programs SEC(".maps");

static __always_inline int by_name(void *map, const char *name)
{
	char key[PATH_LEN] = {};
	__s32 *e;

	bpf_probe_read_user_str(key, sizeof(key), name);
	e = bpf_map_lookup_elem(map, key);
	return e ? -*e : 0;
}

SEC("raw_tp/file_open")
int BPF_PROG(check_open, const char *path, int flags, int mode)
{
	return by_name(&denied_files, path);
}

SEC("raw_tp/socket_connect")
int BPF_PROG(check_connect, int family, const char *host, int port)
{
	__u32 key = port;
	__s32 *e = bpf_map_lookup_elem(&denied_ports, &key);

	return e ? -*e : 0;
}

SEC("raw_tp/task_spawn")
int BPF_PROG(check_spawn, const char *file, int argc)
{
	return by_name(&denied_programs, file);
}

char LICENSE[] SEC("license") = "GPL";
