/*
 * A private pin root for libbpf loaders that measure other people's objects (bench/kstats.c,
 * scripts/libbpf-verdicts.c). libbpf auto-pins every LIBBPF_PIN_BY_NAME map at
 * <pin_root_path>/<name> when it loads an object, /sys/fs/bpf by default; pointed at a directory
 * of our own, those pins are removed after each load and never reach /sys/fs/bpf, where they
 * would outlive the measurement and be reused by the next load of a same-named map.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char pin_root[64];

/* Create /sys/fs/bpf/tsbpf-pins-PID; an empty string (libbpf's default) if that fails. */
static const char *pin_root_make(void)
{
	snprintf(pin_root, sizeof(pin_root), "/sys/fs/bpf/tsbpf-pins-%d", (int)getpid());
	if (mkdir(pin_root, 0700) != 0) pin_root[0] = 0;
	return pin_root[0] ? pin_root : NULL;
}

/* Unlink every pin the last load left in the root (bpffs has no subdirectories here). */
static void pin_root_empty(void)
{
	if (!pin_root[0]) return;
	DIR *d = opendir(pin_root);
	if (!d) return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void pin_root_remove(void)
{
	pin_root_empty();
	if (pin_root[0]) rmdir(pin_root);
}
