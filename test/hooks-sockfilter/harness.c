// SPDX-License-Identifier: MIT
/*
 * The kernel side of test/hooks-sockfilter-kernel.test.ts: load PROG from OBJ
 * (libbpf), attach it with SO_ATTACH_BPF to a UDP socket bound to 127.0.0.1,
 * send each argument as one datagram from a second socket, then print what
 * the application receives ("recv LEN HEX"), the ports ("ports SRC DST")
 * and each value of MAP ("map KEY HEX"), one line each.
 *   usage: harness OBJ PROG MAP ENTRIES DATAGRAM...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

static void hex(const unsigned char *b, int n)
{
	for (int i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s OBJ PROG MAP ENTRIES DATAGRAM...\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "load: %s\n", strerror(errno));
		return 3;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, argv[3]);
	if (!prog || !map)
		return 4;
	int pfd = bpf_program__fd(prog), mfd = bpf_map__fd(map);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (bind(rx, (struct sockaddr *)&a, sizeof(a)) || getsockname(rx, (struct sockaddr *)&a, &al))
		return 5;
	if (setsockopt(rx, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd))) {
		fprintf(stderr, "SO_ATTACH_BPF: %s\n", strerror(errno));
		return 6;
	}
	for (int i = 5; i < argc; i++)
		if (sendto(tx, argv[i], strlen(argv[i]), 0, (struct sockaddr *)&a, sizeof(a)) < 0)
			return 7;
	struct sockaddr_in t = { 0 };
	socklen_t tl = sizeof(t);
	if (getsockname(tx, (struct sockaddr *)&t, &tl))
		return 8;
	printf("ports %d %d\n", ntohs(t.sin_port), ntohs(a.sin_port));
	/* Loopback delivers synchronously: everything the filter passed is queued by now. */
	unsigned char buf[65536];
	for (;;) {
		ssize_t n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		printf("recv %zd ", n);
		hex(buf, (int)n);
		printf("\n");
	}
	int entries = atoi(argv[4]);
	unsigned int vsz = bpf_map__value_size(map);
	unsigned char *v = calloc(1, vsz);
	for (int k = 0; k < entries; k++) {
		if (bpf_map_lookup_elem(mfd, &k, v))
			continue;
		printf("map %d ", k);
		hex(v, (int)vsz);
		printf("\n");
	}
	return 0;
}
