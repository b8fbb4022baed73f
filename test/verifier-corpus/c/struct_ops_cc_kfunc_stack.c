// Accepted by Linux: an ack_sample (a struct of scalars) may also be the program's own
// memory, of the struct's size (KF_ARG_PTR_TO_MEM).
#include "struct_ops_cc_write.h"
SEC("struct_ops/pkts_acked") void BPF_PROG(soks_pkts_acked, struct sock *sk, const struct ack_sample *sample) {
  struct ack_sample s = { .pkts_acked = 1, .rtt_us = 100, .in_flight = 2 };
  cubictcp_acked(sk, &s);
}
SIMPLE_SSTHRESH(soks)
SIMPLE_CONG_AVOID(soks)
SIMPLE_UNDO(soks)
CC(soks, .pkts_acked = (void *)soks_pkts_acked)
