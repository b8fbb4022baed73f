/**
 * The layout of a BPF ring buffer's block in the address space: the one
 * place that says where each word is, read by the JS ring (src/maps/ringbuf.ts,
 * the host producer and reader) and by the WebAssembly producer
 * (helpers/ringbuf-wasm.ts, the JIT's bpf_ringbuf_output), so the two agree.
 *
 * The block is a control block of DATA_OFF bytes, then the data area (twice
 * the ring size, see ringbuf.ts). The control block's words are RB below.
 */
/** bpf_ringbuf_output/submit/discard flags, bpf_ringbuf_query selectors (include/uapi/linux/bpf.h). */
export const BPF_RB_NO_WAKEUP = 1 << 0;
export const BPF_RB_FORCE_WAKEUP = 1 << 1;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;
/** Record header bits (struct bpf_ringbuf_hdr.len). */
export const BPF_RINGBUF_BUSY_BIT = 0x80000000;
export const BPF_RINGBUF_DISCARD_BIT = 0x40000000;
export const BPF_RINGBUF_HDR_SZ = 8;

/**
 * The control block's words, as i32 indices from its start
 * (kernel/bpf/ringbuf.c struct bpf_ringbuf keeps the same state:
 * consumer_pos and producer_pos on their own pages, pending_pos, the
 * spinlock).
 */
export const RB = {
  /** consumer_pos (u64, words 0-1), written by the host reader */
  CONS: 0,
  /** producer_pos (u64, words 2-3), written by producers */
  PROD: 2,
  /** MapLock word (shared spaces: the kernel's rb->spinlock) */
  LOCK: 4,
  /** wakeup word: bumped and notified on every wakeup of a shared ring */
  WAKE: 5,
  /** pending_pos (u64, words 6-7): the oldest record not yet known to be committed */
  PENDING: 6,
  /** six u32 counters, in RINGBUF_STAT_NAMES order */
  STATS: 8,
} as const;

/** The counters at RB.STATS, in order (RingBufStats). */
export const RINGBUF_STAT_NAMES = ['submitted', 'discarded', 'dropped', 'wakeups', 'noWakeup', 'forceWakeup'] as const;

/** The data area's offset from the control block. */
export const DATA_OFF = 64;

/**
 * Offset of the ring's control block address in the map's descriptor
 * (src/maps/descriptor.ts; 0 for every other map type), so a program's map
 * pointer leads to its ring without a call into JS.
 */
export const DESC_RINGBUF_CTRL = 36;
