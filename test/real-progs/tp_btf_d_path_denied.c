/* tp_btf/sched_process_exec: the exec'd file's path through bpf_d_path. A
 * raw tracepoint is not one of the places bpf_d_path_allowed lists. Linux
 * rejects it: "helper call is not allowed in probe". */
#include "files.h"

SEC("tp_btf/sched_process_exec")
int tp_btf_d_path_denied(unsigned long long *ctx)
{
	struct linux_binprm *bprm = (void *)ctx[2];
	char path[64];

	return bpf_d_path(&bprm->file->f_path, path, sizeof(path)) > 0;
}
