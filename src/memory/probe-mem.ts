/**
 * What a BPF_PROBE_MEM load may read: the table of kernel-memory ranges of
 * one address space.
 *
 * In Linux a load through a kernel-object pointer (PTR_TO_BTF_ID) is
 * verified for the field, not for the address: the pointer came out of
 * kernel memory and may be anything. The JIT marks it BPF_PROBE_MEM and adds
 * an exception-table entry, so a fault reads 0 into the destination register
 * and the program goes on (arch/x86/net/bpf_jit_comp.c: ex_handler_bpf); it
 * also fences user-space addresses before the load (the "addr >=
 * TASK_SIZE_MAX + PAGE_SIZE" check emitted in do_jit for BPF_PROBE_MEM).
 *
 * In tsbpf the "kernel" of such a pointer is a kernel model (src/testing)
 * laid out in the same address space as every map, stack and context of the
 * runtime, so the address check is the sandbox boundary: a probe-mem load
 * reads only when [addr, addr + size) lies inside one range the model
 * registered here, and yields 0 otherwise, whatever pointer the program
 * holds. Nothing else is ever in the table, so no such load can reach
 * another map, another program's stack or the runtime's own bookkeeping.
 *
 * The table lives in the address space itself, so that JIT-compiled code
 * checks it without leaving WebAssembly: a block of PROBE_TABLE_BYTES at
 * `addr`, holding the number of ranges (u32) at +0 and then [lo, hi) pairs of
 * u32 from +8. Models allocate their objects from a few large arenas
 * (src/testing/model.ts), so the table holds a handful of ranges and the scan is
 * short. Programs cannot write it: it is in no region they may write.
 */
import { TsbpfError } from '../errors.js';
import { NULL_GUARD, type AddressSpace } from './address-space.js';

/** bytes of the table block: the count word, padding, then the ranges */
const PROBE_TABLE_BYTES = 1024;
/** offset of the first [lo, hi) pair */
export const PROBE_TABLE_RANGES = 8;
/** how many ranges one table holds */
export const PROBE_TABLE_MAX = (PROBE_TABLE_BYTES - PROBE_TABLE_RANGES) / 8;

export class ProbeTable {
  /** address of the table block in the space */
  readonly addr: number;
  private readonly ranges: Array<[number, number]> = [];
  /** pairs written to the block last time */
  private published = 0;
  /** the ranges' bounds as flat arrays, for the interpreter's scan */
  private lo: number[] = [];
  private hi: number[] = [];

  constructor(private readonly space: AddressSpace) {
    this.addr = space.alloc(PROBE_TABLE_BYTES, 8);
  }

  /** Make [base, base + size) readable to probe-mem loads (kernel memory of a model). */
  add(base: number, size: number): void {
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < NULL_GUARD || size <= 0 || base + size > this.space.size)
      throw new TsbpfError('EINVAL', `invalid probe-mem range 0x${base.toString(16)}+${size}`);
    if (this.ranges.length >= PROBE_TABLE_MAX) throw new TsbpfError('ENOSPC', `the probe-mem table holds at most ${PROBE_TABLE_MAX} ranges`);
    this.ranges.push([base, base + size]);
    this.publish();
  }

  /** Withdraw a range added before (a closed model): loads through pointers into it read 0 from now on. */
  remove(base: number): void {
    const i = this.ranges.findIndex((r) => r[0] === base);
    if (i < 0) return;
    this.ranges.splice(i, 1);
    this.publish();
  }

  /**
   * The interpreter's check: whether a probe-mem load of `size` bytes at the
   * 64-bit address `lo | hi << 32` may read (hi must be 0: the space is 32-bit).
   */
  readable(lo: number, hi: number, size: number): boolean {
    if (hi !== 0) return false;
    const a = lo >>> 0;
    const los = this.lo;
    const his = this.hi;
    for (let i = 0; i < los.length; i++) if (a >= los[i]! && a + size <= his[i]!) return true;
    return false;
  }

  /** The [lo, hi) ranges (for tests and diagnostics). */
  get list(): ReadonlyArray<readonly [number, number]> {
    return this.ranges.map(([b, e]) => [b, e] as const);
  }

  private publish(): void {
    // The ranges first, then the count: a reader on another thread never sees a count past the pairs written.
    // Pairs past the count are zeroed ([0, 0) holds nothing): the JIT checks the first pair without the count.
    const v = this.space.view;
    for (let i = 0; i < PROBE_TABLE_MAX; i++) {
      const r = this.ranges[i];
      if (!r && i >= this.published) break;
      v.setUint32(this.addr + PROBE_TABLE_RANGES + i * 8, r ? r[0] : 0, true);
      v.setUint32(this.addr + PROBE_TABLE_RANGES + i * 8 + 4, r ? r[1] : 0, true);
    }
    v.setUint32(this.addr, this.ranges.length, true);
    this.published = this.ranges.length;
    this.lo = this.ranges.map((r) => r[0]);
    this.hi = this.ranges.map((r) => r[1]);
  }
}

const tables = new WeakMap<AddressSpace, ProbeTable>();

/** The probe-mem table of a space, made (empty) on first use. */
export function probeTable(space: AddressSpace): ProbeTable {
  let t = tables.get(space);
  if (!t) {
    t = new ProbeTable(space);
    tables.set(space, t);
  }
  return t;
}
