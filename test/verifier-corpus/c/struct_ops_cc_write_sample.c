// Rejected by Linux: only a tcp_sock may be written; pkts_acked's ack_sample is read-only.
#include "struct_ops_cc_write.h"
SEC("struct_ops/pkts_acked") void BPF_PROG(sow_sample_pkts_acked, struct sock *sk, const struct ack_sample *sample) {
  ((struct ack_sample *)sample)->rtt_us = 0;
}
SIMPLE_SSTHRESH(sow_sample)
SIMPLE_CONG_AVOID(sow_sample)
SIMPLE_UNDO(sow_sample)
CC(sow_sample, .pkts_acked = (void *)sow_sample_pkts_acked)
