/*
 * kstats: the running kernel's verifier statistics for every program of a BPF
 * object, as veristat measures them: each program is loaded on its own (the
 * others' autoload off) with log_level BPF_LOG_STATS (4) only, so the kernel
 * prints "processed N insns" and "verification time T usec" and nothing that
 * would slow it (log levels 1 and 2 print every instruction).
 *
 * Output, one line per program:
 *   <name>\t<accept|reject>\t<processed insns or ->\t<verification time usec or ->
 *
 * Build: gcc -O2 -o kstats kstats.c -lbpf     Run as root: kstats OBJ
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "pin-root.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

static long field(const char *log, const char *key)
{
	const char *p = strstr(log, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kstats OBJ\n");
		return 2;
	}
	libbpf_set_print(quiet);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root_make());
	struct bpf_object *probe = bpf_object__open_file(argv[1], &opts);
	if (!probe) {
		fprintf(stderr, "kstats: cannot open %s\n", argv[1]);
		pin_root_remove();
		return 1;
	}
	struct bpf_program *pp;
	bpf_object__for_each_program(pp, probe) {
		const char *want = bpf_program__name(pp);
		struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
		if (!obj)
			continue;
		static char log[1 << 20];
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj) {
			int mine = strcmp(bpf_program__name(p), want) == 0;
			bpf_program__set_autoload(p, mine);
			if (mine) {
				log[0] = 0;
				bpf_program__set_log_level(p, 4);
				bpf_program__set_log_buf(p, log, sizeof(log));
			}
		}
		int err = bpf_object__load(obj);
		long n = field(log, "processed ");
		long us = field(log, "verification time ");
		printf("%s\t%s\t", want, err ? "reject" : "accept");
		if (n >= 0) printf("%ld\t", n); else printf("-\t");
		if (us >= 0) printf("%ld\n", us); else printf("-\n");
		bpf_object__close(obj);
		pin_root_empty();
	}
	bpf_object__close(probe);
	pin_root_remove();
	return 0;
}
