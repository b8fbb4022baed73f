/* SPDX-License-Identifier: MIT */
/*
 * tsbpf tracepoints: the context structs of the tracepoints tsbpf makes out
 * of Node.js diagnostics_channel events (src/hooks/tracepoint.ts).
 *
 * A program attaches with a section name of the form
 *
 *     SEC("tracepoint/node/<name>")   built-in events, <name> in the table below
 *     SEC("tracepoint/app/<name>")    events an application fires itself
 *                                     (appTracepoint(name).fire(bytes))
 *
 * and takes a pointer to the event's struct as its only argument:
 *
 *     SEC("tracepoint/node/http_server_request_start")
 *     int on_start(struct tsbpf_http_request *ctx) { ... }
 *
 *   <name>                          channel                         struct
 *   http_server_request_start       http.server.request.start       tsbpf_http_request
 *   http_server_response_finish     http.server.response.finish     tsbpf_http_request
 *   http_client_request_start       http.client.request.start       tsbpf_http_request
 *   http_client_response_finish     http.client.response.finish     tsbpf_http_request
 *   undici_request_create           undici:request:create (fetch)   tsbpf_http_request
 *   undici_request_headers          undici:request:headers          tsbpf_http_request
 *   net_client_socket               net.client.socket               tsbpf_net_socket
 *   net_server_socket               net.server.socket               tsbpf_net_socket
 *   child_process                   child_process                   tsbpf_child_process
 *   worker_threads                  worker_threads                  tsbpf_worker
 *
 * As with the kernel's tracepoints, the first 8 bytes (the common fields)
 * are not readable by programs; the context is read-only. Strings are
 * NUL-terminated and zero-padded, cut to the array size. Programs run
 * synchronously inside the publish call, on the application's thread.
 */
#ifndef __TSBPF_TRACEPOINTS_H
#define __TSBPF_TRACEPOINTS_H

#include <linux/types.h>

#define TSBPF_PATH_LEN 64
#define TSBPF_URL_LEN 128
#define TSBPF_FILE_LEN 128

/* The kernel's struct trace_entry: present, not readable by programs. */
struct tsbpf_tp_common {
	__u16 type;          /* the tracepoint's id */
	__u8 flags;
	__u8 preempt_count;
	__s32 pid;
};

enum tsbpf_http_method {
	TSBPF_HTTP_OTHER = 0,
	TSBPF_HTTP_GET = 1,
	TSBPF_HTTP_HEAD = 2,
	TSBPF_HTTP_POST = 3,
	TSBPF_HTTP_PUT = 4,
	TSBPF_HTTP_DELETE = 5,
	TSBPF_HTTP_PATCH = 6,
	TSBPF_HTTP_OPTIONS = 7,
	TSBPF_HTTP_CONNECT = 8,
	TSBPF_HTTP_TRACE = 9,
};

/* HTTP requests, server and client side (240 bytes). */
struct tsbpf_http_request {
	struct tsbpf_tp_common common;   /*   0 */
	__u64 ts_ns;                     /*   8: bpf_ktime_get_ns() at the event */
	__u64 req_id;                    /*  16: one id per request, the same in its start and finish events */
	__u32 method;                    /*  24: enum tsbpf_http_method */
	__u16 status;                    /*  28: the response status; 0 before a response exists */
	__u16 port;                      /*  30: server events: the local port; client events: the remote port */
	__u32 url_len;                   /*  32: length of the whole URL (url[] may hold less) */
	__u32 reserved;                  /*  36 */
	char method_name[8];             /*  40: "GET", "POST", ... */
	char path[TSBPF_PATH_LEN];       /*  48: the URL's path, without the query string */
	char url[TSBPF_URL_LEN];         /* 112: server: the request target; client: origin + path */
};

/* Sockets (64 bytes). net_client_socket fires before the connection is made: ports and addresses may be 0. */
struct tsbpf_net_socket {
	struct tsbpf_tp_common common;   /*   0 */
	__u64 ts_ns;                     /*   8 */
	__u64 sock_id;                   /*  16: one id per socket object */
	__u16 family;                    /*  24: AF_INET (2), AF_INET6 (10), or 0 when not known yet */
	__u16 local_port;                /*  26: host byte order */
	__u16 remote_port;               /*  28: host byte order */
	__u16 reserved;                  /*  30 */
	__u8 local_addr[16];             /*  32: network byte order; IPv4 in the first 4 bytes */
	__u8 remote_addr[16];            /*  48 */
};

/* A child process has started (152 bytes): fires at the ChildProcess 'spawn' event, not for failed spawns. */
struct tsbpf_child_process {
	struct tsbpf_tp_common common;   /*   0 */
	__u64 ts_ns;                     /*   8 */
	__u32 child_pid;                 /*  16 */
	__u32 argc;                      /*  20 */
	char file[TSBPF_FILE_LEN];       /*  24: the program spawned */
};

/* A worker thread was created (24 bytes). */
struct tsbpf_worker {
	struct tsbpf_tp_common common;   /*   0 */
	__u64 ts_ns;                     /*   8 */
	__u32 thread_id;                 /*  16: worker.threadId */
	__u32 reserved;                  /*  20 */
};

/* Application tracepoints (tracepoint/app/<name>): the bytes given to fire() start at data. */
struct tsbpf_app_event {
	struct tsbpf_tp_common common;   /*   0 */
	__u64 ts_ns;                     /*   8 */
	__u8 data[];                     /*  16 */
};

#endif /* __TSBPF_TRACEPOINTS_H */
