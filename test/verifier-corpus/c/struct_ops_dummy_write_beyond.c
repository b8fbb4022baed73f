// Rejected by Linux: a write past the end of struct bpf_dummy_ops_state.
#include "struct_ops_dummy.h"
SEC("struct_ops/test_1") int BPF_PROG(sodb_test_1, struct bpf_dummy_ops_state *cb) {
  if (cb) *(volatile int *)((char *)cb + 4) = 3;
  return 0;
}
SEC(".struct_ops") struct bpf_dummy_ops sodb_ops = { .test_1 = (void *)sodb_test_1 };
