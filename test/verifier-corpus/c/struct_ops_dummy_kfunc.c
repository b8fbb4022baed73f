// Rejected by Linux: the congestion control kfuncs are open to every struct_ops program,
// and tcp_reno_ssthresh wants a struct sock, not the dummy state.
#include "struct_ops_dummy.h"
SEC("struct_ops/test_1") int BPF_PROG(sodk_test_1, struct bpf_dummy_ops_state *cb) {
  if (!cb) return 0;
  return tcp_reno_ssthresh((struct sock *)cb);
}
SEC(".struct_ops") struct bpf_dummy_ops sodk_ops = { .test_1 = (void *)sodk_test_1 };
