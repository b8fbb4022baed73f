// Rejected by Linux: bpf_dummy_ops' verifier ops have no get_func_proto, so its programs
// may call no helper at all ("program of this type cannot use helper").
#include "struct_ops_dummy.h"
SEC("struct_ops/test_1") int BPF_PROG(sodh_test_1, struct bpf_dummy_ops_state *cb) {
  return bpf_get_prandom_u32() & 1;
}
SEC(".struct_ops") struct bpf_dummy_ops sodh_ops = { .test_1 = (void *)sodh_test_1 };
