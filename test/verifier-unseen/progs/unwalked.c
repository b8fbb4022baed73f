// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-oracle loaders' test (test/verifier-unseen.test.ts): a load the
 * kernel refuses before its verifier walks the program is no verdict.
 *
 * `iter/reg_target` names a kernel function (bpf_iter_reg_target, so libbpf
 * finds an attach target in vmlinux BTF) that is no registered iterator:
 * bpf_check's check_attach_btf_id refuses it (bpf_iter_prog_supported,
 * EINVAL) with a log of the statistics alone, "processed 0 insns". The socket
 * filter beside it is accepted: the control.
 *
 * Built with scripts/build-verifier-c.sh:
 *   SRC_DIR=$PWD/test/verifier-unseen/progs bash scripts/build-verifier-c.sh
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("iter/reg_target")
int not_an_iterator(void *ctx)
{
	return 0;
}

SEC("socket")
int accepted(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
