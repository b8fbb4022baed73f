// Accepted by Linux: a bpf_dummy_ops program writes its (NULL-checked) state
// (bpf_dummy_ops_btf_struct_access).
#include "struct_ops_dummy.h"
SEC("struct_ops/test_1") int BPF_PROG(sodw_test_1, struct bpf_dummy_ops_state *cb) {
  if (cb) cb->val = 3;
  return 0;
}
SEC(".struct_ops") struct bpf_dummy_ops sodw_ops = { .test_1 = (void *)sodw_test_1 };
