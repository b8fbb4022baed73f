/*
 * libbpf-verdicts OBJ: libbpf's verdict on one object file, for scripts/measure-objects.sh.
 * Opens OBJ with bpf_object__open_file (libbpf's own rules: section names, map
 * definitions, relocations), then loads each program alone into the running
 * kernel (a fresh open per program, every other program's autoload off), so one
 * refused program does not hide the others' verdicts. Output, tab-separated:
 *   open  ok  NPROGS                 | open  fail  ERRNO  LAST-LIBBPF-WARNING
 *   prog  NAME  SECTION  ok          | prog  NAME  SECTION  fail  ERRNO  LAST-LOG-LINE
 * Needs root (or CAP_BPF) for the loads; written for this measurement only.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "../bench/pin-root.h"

static char last[512];

/* Keep the last non-empty line libbpf prints (warnings and the verifier log end). */
static int keep_last(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[8192];
	if (level == LIBBPF_DEBUG) return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	char *line = strtok(buf, "\n");
	while (line) {
		/* the reason, not the summary lines around it */
		if (*line && !strstr(line, "-- END") && !strstr(line, "failed to load") &&
		    strncmp(line, "processed ", 10) != 0 && !strstr(line, "verification time") &&
		    strncmp(line, "stack depth", 11) != 0)
			snprintf(last, sizeof(last), "%s", line);
		line = strtok(NULL, "\n");
	}
	return 0;
}

static void clean(char *s)
{
	for (; *s; s++) if (*s == '\t' || *s == '\n') *s = ' ';
}

int main(int argc, char **argv)
{
	if (argc != 2) { fprintf(stderr, "usage: libbpf-verdicts OBJ\n"); return 2; }
	libbpf_set_print(keep_last);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root_make());
	struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
	long err = libbpf_get_error(obj);
	if (err) {
		clean(last);
		printf("open\tfail\t%s\t%s\n", strerrorname_np(-err) ?: "?", last);
		pin_root_remove();
		return 0;
	}
	int n = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) n++;
	printf("open\tok\t%d\n", n);
	bpf_object__close(obj);
	for (int i = 0; i < n; i++) {
		obj = bpf_object__open_file(argv[1], &opts);
		if (libbpf_get_error(obj)) { pin_root_remove(); return 1; }
		int j = 0;
		struct bpf_program *mine = NULL;
		bpf_object__for_each_program(p, obj) {
			bpf_program__set_autoload(p, j == i);
			if (j++ == i) mine = p;
		}
		last[0] = 0;
		err = bpf_object__load(obj);
		if (err) {
			clean(last);
			printf("prog\t%s\t%s\tfail\t%s\t%s\n", bpf_program__name(mine), bpf_program__section_name(mine), strerrorname_np(-err) ?: "?", last);
		} else {
			printf("prog\t%s\t%s\tok\n", bpf_program__name(mine), bpf_program__section_name(mine));
		}
		bpf_object__close(obj);
		pin_root_empty();
	}
	pin_root_remove();
	return 0;
}
