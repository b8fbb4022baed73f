// Rejected by Linux: the congestion control kfuncs are registered for struct_ops programs only.
#include "struct_ops_cc_write.h"
SEC("syscall") int sokh_syscall(void *ctx) { return tcp_reno_ssthresh(ctx); }
