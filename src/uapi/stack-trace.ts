/**
 * The call-chain facts shared by BPF_MAP_TYPE_STACK_TRACE (src/maps/stack-trace.ts)
 * and the helpers that walk a stack (bpf_get_stackid, bpf_get_stack:
 * src/helpers/tracing.ts), from include/uapi/linux/bpf.h and
 * kernel/bpf/stackmap.c.
 */

/** flags of bpf_get_stackid / bpf_get_stack: the number of innermost frames to skip */
export const BPF_F_SKIP_FIELD_MASK = 0xffn;
/** walk the user stack instead of the kernel's */
export const BPF_F_USER_STACK = 1n << 8n;
/** bpf_get_stackid: an id whose hash matches is taken as the same stack, without comparing the frames */
export const BPF_F_FAST_STACK_CMP = 1n << 9n;
/** bpf_get_stackid: a different stack in the id's bucket replaces it (instead of -EEXIST) */
export const BPF_F_REUSE_STACKID = 1n << 10n;
/** bpf_get_stack: struct bpf_stack_build_id entries instead of ips */
export const BPF_F_USER_BUILD_ID = 1n << 11n;

/** sysctl kernel.perf_event_max_stack's default (PERF_MAX_STACK_DEPTH): the deepest chain the kernel walks */
export const PERF_MAX_STACK_DEPTH = 127;

/** sizeof(struct bpf_stack_build_id): s32 status, u8 build_id[20], (pad), union { u64 offset; u64 ip; } at 24 */
export const BUILD_ID_ENTRY_SIZE = 32;
export const BUILD_ID_IP_OFFSET = 24;
/** bpf_stack_build_id.status: BPF_STACK_BUILD_ID_IP (no build id found: the raw ip is given) */
export const BPF_STACK_BUILD_ID_IP = 2;

/**
 * stack_map_calculate_max_depth: how many frames the kernel collects for a
 * buffer of `size` bytes of `elemSize`-byte entries, the skipped frames
 * included, capped at perf_event_max_stack.
 */
export function stackMaxDepth(size: number, elemSize: number, skip: number): number {
  return Math.min(Math.floor(size / elemSize) + skip, PERF_MAX_STACK_DEPTH);
}

/**
 * Write frames as struct bpf_stack_build_id entries, as
 * stack_map_get_build_id_offset's fallback does when it has no mm to look
 * build ids up in (the modelled kernel has none): status
 * BPF_STACK_BUILD_ID_IP, a zero build id, the ip.
 */
export function writeBuildIdEntries(dst: DataView, at: number, ips: readonly bigint[]): void {
  for (let i = 0; i < ips.length; i++) {
    const e = at + i * BUILD_ID_ENTRY_SIZE;
    for (let j = 0; j < BUILD_ID_ENTRY_SIZE; j++) dst.setUint8(e + j, 0);
    dst.setInt32(e, BPF_STACK_BUILD_ID_IP, true);
    dst.setBigUint64(e + BUILD_ID_IP_OFFSET, BigInt.asUintN(64, ips[i]!), true);
  }
}
