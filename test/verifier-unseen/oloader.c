/*
 * oloader: the Linux kernel's verdict on each program of a BPF object file,
 * one program at a time (test/verifier-unseen.ts is its only user).
 *
 *   oloader FILE.o [PROG]      (with PROG: only that one, its whole log on stderr)
 *
 * `bpftool prog load` loads every program of an object at once, so one
 * rejected program hides the verdict on the others. Here the object is opened
 * once per program with libbpf (maps, relocations and CO-RE as libbpf does
 * them), autoload is switched off for every other program, and the one left
 * is loaded with a log buffer. One line is printed per program:
 *
 *   RESULT <name>\t<section>\t<accept|reject|error>\t<errno name>\t<message>\t<usec>
 *
 * `accept` means the kernel's verifier walked the program and passed it: the
 * load succeeded, or the log's statistics say it processed instructions and
 * the load that failed was libbpf's step after the kernel's (filling a
 * prog_array with programs whose autoload is off gives EBADF).
 * `reject` means the kernel's verifier said no (the log has the reason; the
 * message is its last line before the statistics). `error` means the load
 * failed before or outside the verifier: libbpf could not create a map,
 * resolve a kfunc or attach target (empty log; the message is libbpf's last
 * warning), or the kernel refused the program without a reason in its log.
 * The last is what bpf_check does when it refuses a program before walking
 * it (check_attach_btf_id: an iterator target this kernel will not verify,
 * a struct_ops type whose module is not loaded): it still prints the
 * statistics, "processed 0 insns", so a log of statistics alone is not an
 * accept unless the verifier processed instructions and the kernel's load
 * itself did not fail (libbpf's "prog 'NAME': failed to load" says it did).
 *
 * OLOADER_SIZE_MAPS=1 sizes what a real tool's user space sizes before it
 * loads (Falco's probe leaves max_entries 0 in the object and sets it at run
 * time): a map of max_entries 0 gets the number of possible CPUs (a ring
 * buffer 64 KiB), an inner map template of max_entries 0 one such map, and an
 * arena map (which this kernel refuses to create; tools probe for it and drop
 * it) is not created. Without it the object is loaded as it is.
 *
 * Build: cc -O2 -o oloader oloader.c -lbpf
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "../kernel-oracle.h"

#define LOG_SIZE (64u << 20)

static char *logbuf;
static char lastwarn[512];
/* libbpf said the kernel refused this program's BPF_PROG_LOAD ("prog 'NAME': failed to load: ERR"). */
static int prog_load_failed;


/* Keep libbpf's last warning: it says why a load failed outside the verifier. */
static int on_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char tmp[512];
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	if (strstr(tmp, "prog '") && strstr(tmp, "': failed to load"))
		prog_load_failed = 1;
	size_t n = strlen(tmp);
	while (n && (tmp[n - 1] == '\n' || tmp[n - 1] == ' '))
		tmp[--n] = 0;
	/* libbpf echoes the verifier log between these markers: not a reason of its own. */
	if (n && !strstr(tmp, "-- BEGIN PROG LOAD LOG --") && !strstr(tmp, "-- END PROG LOAD LOG --") &&
	    !strstr(tmp, "failed to load object"))
		snprintf(lastwarn, sizeof lastwarn, "%s", tmp);
	return 0;
}

/* The verifier's instruction count from the log's statistics ("processed N insns"), -1 without them. */
static long processed_insns(const char *log)
{
	long n = -1;
	for (const char *p = log; (p = strstr(p, "processed ")); p += 10)
		if (p == log || p[-1] == '\n')
			n = strtol(p + 10, NULL, 10);
	return n;
}

static void clean(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n')
			*s = ' ';
}


#define MAP_TYPE_ARENA 33 /* BPF_MAP_TYPE_ARENA: newer than some libbpf-dev headers */
#define SIZED_RINGBUF (64u << 10)

/* OLOADER_SIZE_MAPS: what the tool's loader would set with bpf_map__set_max_entries & co. */
static void size_maps(struct bpf_object *obj)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj) {
		if (bpf_map__type(m) == MAP_TYPE_ARENA) {
			bpf_map__set_autocreate(m, false);
			continue;
		}
		/* An inner template has no object of its own to resize: give the outer map one. */
		struct bpf_map *in = bpf_map__inner_map(m);
		if (in && bpf_map__max_entries(in) == 0) {
			int fd = bpf_map_create(bpf_map__type(in), NULL, bpf_map__key_size(in), bpf_map__value_size(in),
						bpf_map__type(in) == BPF_MAP_TYPE_RINGBUF ? SIZED_RINGBUF : 1, NULL);
			if (fd >= 0)
				bpf_map__set_inner_map_fd(m, fd);
		}
		if (bpf_map__max_entries(m) == 0)
			bpf_map__set_max_entries(m, bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF ? SIZED_RINGBUF
											  : (unsigned)libbpf_num_possible_cpus());
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: oloader FILE.o [PROG]\n");
		return 2;
	}
	logbuf = malloc(LOG_SIZE);
	if (!logbuf)
		return 1;
	libbpf_set_print(on_print);
	const char *sz = getenv("OLOADER_SIZE_MAPS");
	int size = sz && strcmp(sz, "0") && *sz;
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		clean(lastwarn);
		printf("OPENFAIL\t%s\t%s\n", errno_name(errno), lastwarn);
		return 0;
	}
	int n = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) n++;
	bpf_object__close(obj);

	for (int k = 0; k < n; k++) {
		obj = bpf_object__open_file(argv[1], NULL);
		if (!obj)
			return 1;
		struct bpf_program *mine = NULL;
		int i = 0;
		if (argc == 3) {
			bpf_object__for_each_program(p, obj) if (i++ == k && strcmp(bpf_program__name(p), argv[2]))
				mine = p;
			i = 0;
			if (mine) {
				bpf_object__close(obj);
				continue;
			}
		}
		bpf_object__for_each_program(p, obj) {
			if (i++ == k)
				mine = p;
			else
				bpf_program__set_autoload(p, false);
		}
		/* SEC("?...") programs are not loaded by default: this one must be. */
		bpf_program__set_autoload(mine, true);
		logbuf[0] = 0;
		lastwarn[0] = 0;
		prog_load_failed = 0;
		bpf_program__set_log_buf(mine, logbuf, LOG_SIZE);
		/* OLOADER_LOG_LEVEL=4 (stats only) times the verifier without the cost of its log. */
		const char *lv = getenv("OLOADER_LOG_LEVEL");
		bpf_program__set_log_level(mine, lv ? atoi(lv) : 1);
		if (size)
			size_maps(obj);
		int err = bpf_object__load(obj);
		char msg[512];
		const char *verdict = "accept";
		if (err) {
			err = -err;
			last_line(logbuf, msg, sizeof msg);
			long insns = processed_insns(logbuf);
			if (logbuf[0] && strcmp(msg, "-")) {
				verdict = "reject";
			} else if (insns > 0 && !prog_load_failed) {
				/* Only the statistics of a walk, and the kernel's load
				 * succeeded: the verifier accepted it and a later
				 * step of libbpf's failed. */
				verdict = "accept";
				snprintf(msg, sizeof msg, "verifier accepted; libbpf failed after the load");
			} else if (logbuf[0]) {
				/* The kernel refused it and its log gives no reason:
				 * refused before the walk (processed 0 insns), or by a
				 * silent step after it. No verifier verdict either way. */
				verdict = "error";
				if (insns > 0)
					snprintf(msg, sizeof msg, "kernel refused the load after its verifier walked it (processed %ld insns), with no reason in the log", insns);
				else
					snprintf(msg, sizeof msg, "kernel refused the load before its verifier walked it (processed 0 insns)");
			} else {
				verdict = "error";
				snprintf(msg, sizeof msg, "%s", lastwarn[0] ? lastwarn : "-");
				clean(msg);
			}
		} else {
			snprintf(msg, sizeof msg, "-");
		}
		if (argc == 3)
			fputs(logbuf, stderr);
		/* The kernel's own "verification time N usec" (log level 4 adds it). */
		long usec = -1;
		const char *vt = strstr(logbuf, "verification time ");
		if (vt)
			usec = strtol(vt + 18, NULL, 10);
		printf("RESULT %s\t%s\t%s\t%s\t%s\t%ld\n", bpf_program__name(mine), bpf_program__section_name(mine), verdict,
		       errno_name(err), msg, usec);
		fflush(stdout);
		bpf_object__close(obj);
	}
	return 0;
}
