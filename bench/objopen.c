/*
 * objopen: libbpf's bpf_object__open on one object file, the baseline of `npm run bench --
 * open` (bench/open.bench.ts). Prints the CPU time (user + system, getrusage) of the open
 * alone, in microseconds, and the number of programs it found. Opening reads the ELF, the BTF
 * and BTF.ext, the maps and relocations, and needs no privilege.
 *
 * Build: gcc -O2 -o objopen objopen.c -lbpf     Run: objopen OBJ
 */
#include <stdio.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

static long cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	long t0, t1;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: objopen OBJ\n");
		return 2;
	}
	libbpf_set_print(quiet);
	t0 = cpu_us();
	obj = bpf_object__open(argv[1]);
	t1 = cpu_us();
	if (!obj) {
		fprintf(stderr, "objopen: cannot open %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj)
		n++;
	printf("%ld\t%d\n", t1 - t0, n);
	bpf_object__close(obj);
	return 0;
}
