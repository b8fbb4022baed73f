/**
 * Flag and constant values of include/uapi/linux/bpf.h that the maps layer
 * needs. Numeric values are the kernel's, so objects and user code that pass
 * raw flags behave the same here as with bpf(2).
 */

// Update flags (BPF_MAP_UPDATE_ELEM attr->flags, bpf_map_update_elem's flags).
export { BPF_ANY, BPF_NOEXIST, BPF_EXIST } from '../uapi/update-flags.js';
/** Take the value's bpf_spin_lock: only maps whose BTF value has one (tsbpf: none, so EINVAL). */
export const BPF_F_LOCK = 4;

// map_flags at creation.
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_STACK_BUILD_ID = 1 << 5;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_CLONE = 1 << 9;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_PRESERVE_ELEMS = 1 << 11;
export const BPF_F_INNER_MAP = 1 << 12;

/** The access bits every map type accepts (kernel: BPF_F_ACCESS_MASK). */
export const BPF_F_ACCESS_MASK = BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

// Ring buffer flags, query selectors and record header bits: memory/ringbuf-layout.ts (the WebAssembly producer reads them too).
export {
  BPF_RB_NO_WAKEUP,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_AVAIL_DATA,
  BPF_RB_RING_SIZE,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from '../memory/ringbuf-layout.js';

// bpf_perf_event_output flags.
export const BPF_F_INDEX_MASK = 0xffffffffn;
export const BPF_F_CURRENT_CPU = 0xffffffffn;

/** include/linux/slab.h on x86-64 (PAGE_SHIFT 12, MAX_PAGE_ORDER 10): the kmalloc limit map checks use. */
export const KMALLOC_MAX_SIZE = 1 << 22;
/** mm/percpu: per-CPU map values are bound by PCPU_MIN_UNIT_SIZE. */
export const PCPU_MIN_UNIT_SIZE = 32768;
export const PAGE_SIZE = 4096;

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

export function isPowerOf2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0 && n <= 0x80000000;
}

export function roundUpPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
