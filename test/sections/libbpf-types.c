/*
 * libbpf-types: what libbpf's bpf_object__open makes of each program's
 * section name. Prints one line per program, tab-separated:
 *   SECTION  PROG_TYPE  EXPECTED_ATTACH_TYPE  SLEEPABLE  XDP_FRAGS
 * (numbers of enum bpf_prog_type / enum bpf_attach_type; program type 0,
 * BPF_PROG_TYPE_UNSPEC, is libbpf's "unrecognized ELF section name", which
 * fails at load). The differential oracle of test/sections/.
 * Build: gcc -O2 -o libbpf-types libbpf-types.c -lbpf
 */
#include <stdio.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level; (void)fmt; (void)args;
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;

	if (argc != 2) {
		fprintf(stderr, "usage: libbpf-types OBJ\n");
		return 2;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open(argv[1]);
	if (!obj) {
		perror("bpf_object__open");
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		__u32 flags = bpf_program__flags(prog);
		printf("%s\t%d\t%d\t%d\t%d\n", bpf_program__section_name(prog), (int)bpf_program__type(prog),
		       (int)bpf_program__expected_attach_type(prog), !!(flags & BPF_F_SLEEPABLE),
		       !!(flags & BPF_F_XDP_HAS_FRAGS));
	}
	bpf_object__close(obj);
	return 0;
}
