/*
 * kloader: the Linux kernel as the verifier corpus's oracle.
 *
 * Reads cases from stdin (written by test/verifier-corpus/record.ts), creates
 * each case's maps with bpf_map_create, patches the map-fd lddw instructions
 * (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE carry the map's index in the case
 * until here), loads the program with bpf_prog_load and prints one line:
 *
 *   RESULT <name>\t<accept|reject>\t<errno name or ->\t<last verifier log line>
 *
 * Input, one directive a line (numbers in decimal):
 *   case NAME
 *   prog TYPE EXPECTED_ATTACH_TYPE PROG_FLAGS UNPRIV      (UNPRIV 1: load without CAP_BPF etc.)
 *   license TEXT
 *   inner TYPE KEY VALUE MAX FLAGS       (template for the next map, a map-in-map)
 *   map TYPE KEY VALUE MAX FLAGS FREEZE
 *   insn CODE DST SRC OFF IMM
 *   func INSN_OFF                         (with BTF: a function starts here; the first is main)
 *   attach_btf NAME                       (attach_btf_id: vmlinux FUNC NAME, or typedef NAME for btf_trace_*)
 *   kfunc INSN_OFF NAME                   (the kfunc call at INSN_OFF gets vmlinux FUNC NAME's BTF id)
 *   end                                   (load, print, close everything)
 *
 * Unprivileged loads follow the kernel selftests' approach: maps are created
 * as root, then CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_PERFMON and CAP_BPF are
 * cleared from the effective set for the load only. Where
 * kernel.unprivileged_bpf_disabled is not 0 the kernel refuses with EPERM;
 * the recorder reports that as "unpriv: kernel disabled".
 *
 * Build: gcc -O2 -o kloader kloader.c -lbpf
 */
#include <errno.h>
#include <bpf/btf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "../kernel-oracle.h"

#define MAX_INSNS (1 << 20)
#define MAX_MAPS 16
#define LOG_SIZE (16u << 20)

static struct bpf_insn *insns;
static char *logbuf;

struct mapdef {
	int type, key, value, max, flags, freeze;
	int has_inner;
	int itype, ikey, ivalue, imax, iflags;
};


/* Effective capabilities on (1) or off (0) for the unprivileged load. */
static int set_caps(int on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	const int caps[] = { 21 /* SYS_ADMIN */, 12 /* NET_ADMIN */, 38 /* PERFMON */, 39 /* BPF */ };
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int c = caps[i];
		if (on)
			data[c / 32].effective |= 1u << (c % 32);
		else
			data[c / 32].effective &= ~(1u << (c % 32));
	}
	return syscall(SYS_capset, &hdr, data);
}


/*
 * Minimal program BTF for func_info, as clang emits for every object: an
 * `int` type, one FUNC_PROTO `int (void)` and a FUNC per function (main
 * global, the others static). Static functions' prototypes are not checked
 * against their use, so one prototype serves every function.
 */
static int load_func_btf(int nfuncs)
{
	static unsigned char blob[65536];
	__u32 *t;
	char *str;
	size_t tlen, slen = 0, off = 0;
	if (nfuncs > 1000)
		return -1;
	t = (__u32 *)(blob + 24);
	char strs[16384];
	strs[slen++] = 0;
	size_t int_name = slen;
	slen += sprintf(strs + slen, "int") + 1;
	/* [1] int */
	t[off++] = int_name; t[off++] = 1u << 24; t[off++] = 4; t[off++] = (1u << 24) | 32;
	/* [2] int (void) */
	t[off++] = 0; t[off++] = 13u << 24; t[off++] = 1;
	for (int i = 0; i < nfuncs; i++) {
		size_t name = slen;
		slen += sprintf(strs + slen, "f%d", i) + 1;
		t[off++] = name; t[off++] = (12u << 24) | (i == 0 ? 1 : 0); t[off++] = 2;
	}
	tlen = off * 4;
	str = (char *)blob + 24 + tlen;
	memcpy(str, strs, slen);
	__u16 magic = 0xeB9F;
	memcpy(blob, &magic, 2);
	blob[2] = 1; blob[3] = 0;
	__u32 hdr[5] = { 24, 0, (__u32)tlen, (__u32)tlen, (__u32)slen };
	memcpy(blob + 4, hdr, sizeof hdr);
	return bpf_btf_load(blob, 24 + tlen + slen, NULL);
}

static int create_map(struct mapdef *m, int idx)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);
	int inner = -1, fd;
	char name[16];
	o.map_flags = m->flags;
	if (m->has_inner) {
		inner = bpf_map_create(m->itype, "inner", m->ikey, m->ivalue, m->imax, NULL);
		if (inner < 0)
			return -errno;
		o.inner_map_fd = inner;
	}
	snprintf(name, sizeof name, "m%d", idx);
	fd = bpf_map_create(m->type, name, m->key, m->value, m->max, &o);
	int err = errno;
	if (inner >= 0)
		close(inner);
	if (fd < 0)
		return -err;
	if (m->freeze && bpf_map_freeze(fd)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

int main(void)
{
	char line[512], name[512] = "", license[512] = "GPL", msg[1024];
	struct mapdef maps[MAX_MAPS], pending = { 0 };
	int nmaps = 0, ninsns = 0, ptype = 0, attach = 0, pflags = 0, unpriv = 0, bad = 0, nfuncs = 0;
	static struct bpf_func_info funcs[1000];
	int attach_btf_id = 0;
	struct btf *vmlinux = NULL;

	insns = calloc(MAX_INSNS, sizeof(*insns));
	logbuf = malloc(LOG_SIZE);
	if (!insns || !logbuf)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "case ", 5)) {
			snprintf(name, sizeof name, "%s", line + 5);
			nmaps = ninsns = ptype = attach = pflags = unpriv = bad = nfuncs = attach_btf_id = 0;
			memset(&pending, 0, sizeof pending);
			snprintf(license, sizeof license, "GPL");
		} else if (!strncmp(line, "prog ", 5)) {
			sscanf(line + 5, "%d %d %d %d", &ptype, &attach, &pflags, &unpriv);
		} else if (!strncmp(line, "license ", 8)) {
			snprintf(license, sizeof license, "%s", line + 8);
		} else if (!strncmp(line, "inner ", 6)) {
			pending.has_inner = 1;
			sscanf(line + 6, "%d %d %d %d %d", &pending.itype, &pending.ikey, &pending.ivalue, &pending.imax,
			       &pending.iflags);
		} else if (!strncmp(line, "map ", 4)) {
			if (nmaps == MAX_MAPS) {
				bad = 1;
				continue;
			}
			struct mapdef *m = &maps[nmaps++];
			*m = pending;
			memset(&pending, 0, sizeof pending);
			sscanf(line + 4, "%d %d %d %d %d %d", &m->type, &m->key, &m->value, &m->max, &m->flags, &m->freeze);
		} else if (!strncmp(line, "insn ", 5)) {
			int code, dst, src, off, imm;
			if (ninsns == MAX_INSNS || sscanf(line + 5, "%d %d %d %d %d", &code, &dst, &src, &off, &imm) != 5) {
				bad = 1;
				continue;
			}
			struct bpf_insn *i = &insns[ninsns++];
			i->code = code;
			i->dst_reg = dst;
			i->src_reg = src;
			i->off = off;
			i->imm = imm;
		} else if (!strncmp(line, "attach_btf ", 11) || !strncmp(line, "kfunc ", 6)) {
			/* Kernel BTF ids by name: tracing targets and kfuncs. */
			char nm[512];
			int at = -1, id;
			if (!vmlinux)
				vmlinux = btf__load_vmlinux_btf();
			if (!vmlinux) {
				bad = 1;
				continue;
			}
			if (line[0] == 'a') {
				snprintf(nm, sizeof nm, "%s", line + 11);
				id = btf__find_by_name_kind(vmlinux, nm, strncmp(nm, "btf_trace_", 10) ? BTF_KIND_FUNC : BTF_KIND_TYPEDEF);
				if (id < 0)
					bad = 1;
				else
					attach_btf_id = id;
			} else if (sscanf(line + 6, "%d %511s", &at, nm) == 2 && at >= 0 && at < ninsns) {
				id = btf__find_by_name_kind(vmlinux, nm, BTF_KIND_FUNC);
				if (id < 0)
					bad = 1;
				else
					insns[at].imm = id;
			} else
				bad = 1;
		} else if (!strncmp(line, "func ", 5)) {
			if (nfuncs == 1000) {
				bad = 1;
				continue;
			}
			funcs[nfuncs].insn_off = atoi(line + 5);
			funcs[nfuncs].type_id = 3 + nfuncs;
			nfuncs++;
		} else if (!strcmp(line, "end")) {
			int fds[MAX_MAPS], ok = 1, fd, err = 0, btf_fd = -1;
			if (bad) {
				printf("RESULT %s\terror\t-\tkloader: malformed case\n", name);
				continue;
			}
			for (int i = 0; i < nmaps; i++) {
				fds[i] = create_map(&maps[i], i);
				if (fds[i] < 0) {
					printf("RESULT %s\terror\t%s\tkloader: map %d: bpf_map_create failed\n", name,
					       errno_name(-fds[i]), i);
					for (int j = 0; j < i; j++)
						close(fds[j]);
					ok = 0;
					break;
				}
			}
			if (!ok)
				continue;
			/* Patch map references: the first slot of an lddw whose src names a map fd. */
			for (int i = 0; i + 1 < ninsns; i++) {
				if (insns[i].code != (BPF_LD | BPF_DW | BPF_IMM))
					continue;
				if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
					int idx = insns[i].imm;
					/* An index past the maps stays as it is: the kernel then sees a bad fd. */
					if (idx >= 0 && idx < nmaps)
						insns[i].imm = fds[idx];
				}
				i++;
			}
			if (nfuncs) {
				btf_fd = load_func_btf(nfuncs);
				if (btf_fd < 0) {
					printf("RESULT %s\terror\t%s\tkloader: BTF load failed\n", name, errno_name(errno));
					for (int i = 0; i < nmaps; i++)
						close(fds[i]);
					continue;
				}
			}
			LIBBPF_OPTS(bpf_prog_load_opts, po);
			if (nfuncs) {
				po.prog_btf_fd = btf_fd;
				po.func_info = funcs;
				po.func_info_cnt = nfuncs;
				po.func_info_rec_size = sizeof(funcs[0]);
			}
			po.expected_attach_type = attach;
			po.attach_btf_id = attach_btf_id;
			po.prog_flags = pflags;
			po.attempts = 1;
			if (unpriv && set_caps(0)) {
				printf("RESULT %s\terror\t-\tkloader: capset failed\n", name);
				continue;
			}
			fd = bpf_prog_load(ptype, "corpus", license, insns, ninsns, &po);
			err = errno;
			if (fd >= 0) {
				close(fd);
				if (unpriv)
					set_caps(1);
				printf("RESULT %s\taccept\t-\t-\n", name);
			} else {
				/* Again with the log, for the message (the verdict and errno come from the first load). */
				LIBBPF_OPTS(bpf_prog_load_opts, lo);
				if (nfuncs) {
					lo.prog_btf_fd = btf_fd;
					lo.func_info = funcs;
					lo.func_info_cnt = nfuncs;
					lo.func_info_rec_size = sizeof(funcs[0]);
				}
				lo.expected_attach_type = attach;
				lo.attach_btf_id = attach_btf_id;
				lo.prog_flags = pflags;
				lo.attempts = 1;
				lo.log_level = 1;
				lo.log_size = LOG_SIZE;
				lo.log_buf = logbuf;
				logbuf[0] = 0;
				int fd2 = bpf_prog_load(ptype, "corpus", license, insns, ninsns, &lo);
				if (fd2 >= 0)
					close(fd2);
				if (unpriv)
					set_caps(1);
				last_line(logbuf, msg, sizeof msg);
				printf("RESULT %s\treject\t%s\t%s\n", name, errno_name(err), msg);
			}
			for (int i = 0; i < nmaps; i++)
				close(fds[i]);
			if (btf_fd >= 0)
				close(btf_fd);
		}
	}
	return 0;
}
