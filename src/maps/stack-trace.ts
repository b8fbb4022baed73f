/**
 * BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): call chains by id.
 * A program never reads it; it asks bpf_get_stackid to store the current
 * chain and gets back the id (the key, a u32), and user space reads the
 * frames by id.
 *
 * As the kernel's:
 * - the id of a chain is jhash2 of its frames (u64 ips as u32 words, seed
 *   0) masked to the bucket count, max_entries rounded up to a power of
 *   two; so ids are the ones Linux gives for the same frames;
 * - a value is value_size / 8 u64 ips (BPF_F_STACK_BUILD_ID: value_size /
 *   32 struct bpf_stack_build_id), the frames first, zeros after;
 * - a bucket holding another chain answers -EEXIST, unless
 *   BPF_F_REUSE_STACKID lets the new chain replace it; BPF_F_FAST_STACK_CMP
 *   takes a matching hash as the same chain; -ENOMEM when all max_entries
 *   elements are in use (the kernel's preallocated freelist; build-id maps
 *   take an element before comparing, as stackid_new_bucket does);
 * - lookup (bpf_stackmap_copy) by id, ENOENT for an empty or out-of-range
 *   id; get-next-key in id order; delete E2BIG past the buckets, ENOENT
 *   for an empty one; update is EINVAL (only programs add chains).
 *
 * The frames live in JS memory, not in the address space: no program can
 * point into them (the verifier refuses map_lookup_elem on this type,
 * check_map_func_compatibility).
 */
import type { MapSpec } from '../object/spec.js';
import { BpfMap, errno, type KeyInput, type MapContext, type ValueInput } from './map.js';
import { BPF_F_STACK_BUILD_ID, roundUpPow2 } from './flags.js';
import { jhash2 } from './jhash.js';
import {
  BPF_F_FAST_STACK_CMP,
  BPF_F_REUSE_STACKID,
  BPF_F_SKIP_FIELD_MASK,
  BPF_F_USER_STACK,
  BUILD_ID_ENTRY_SIZE,
  BUILD_ID_IP_OFFSET,
  stackMaxDepth,
  writeBuildIdEntries,
} from '../uapi/stack-trace.js';

/** struct stack_map_bucket: the chain's hash, its frame count, and the value bytes */
interface Bucket {
  hash: number;
  nr: number;
  data: Uint8Array;
}

export class StackTraceMap extends BpfMap<Uint8Array> {
  /** roundup_pow_of_two(max_entries): the ids are 0..nBuckets-1 */
  readonly nBuckets: number;
  /** bytes per frame: 8 (an ip), or 32 (struct bpf_stack_build_id) with BPF_F_STACK_BUILD_ID */
  readonly frameSize: number;
  private readonly buckets = new Map<number, Bucket>();
  /** elements out of the freelist: in buckets, or popped for a build-id comparison */
  private used = 0;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.nBuckets = roundUpPow2(this.maxEntries);
    this.frameSize = this.buildId ? BUILD_ID_ENTRY_SIZE : 8;
  }

  get buildId(): boolean {
    return (this.flags & BPF_F_STACK_BUILD_ID) !== 0;
  }

  /** The number of stored chains. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * bpf_get_stackid on `chain`, the event's kernel or user call chain
   * (innermost first, as the helper chose by BPF_F_USER_STACK): the id, or
   * a negative errno (EINVAL for unknown flags, EFAULT when skip leaves no
   * frame, EEXIST, ENOMEM).
   */
  stackId(chain: readonly bigint[], flags: bigint): number {
    if (flags & ~(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID)) return errno('EINVAL');
    const skip = Number(flags & BPF_F_SKIP_FIELD_MASK);
    const maxDepth = stackMaxDepth(this.valueSize, this.frameSize, skip);
    // get_perf_callchain collects at most max_depth frames; stackid_init skips and hashes the rest.
    const traceNr = Math.min(chain.length, maxDepth);
    if (traceNr <= skip) return errno('EFAULT');
    const nr = Math.min(traceNr - skip, maxDepth - skip);
    const words = new Uint32Array(nr * 2);
    const dv = new DataView(words.buffer);
    for (let i = 0; i < nr; i++) dv.setBigUint64(i * 8, BigInt.asUintN(64, chain[skip + i]!), true);
    const hash = jhash2(words, 0, nr * 2, 0);
    const id = hash & (this.nBuckets - 1);
    const bucket = this.buckets.get(id);
    const hashMatches = bucket !== undefined && bucket.hash === hash;
    if (hashMatches && flags & BPF_F_FAST_STACK_CMP) return id;
    const ips = new Uint8Array(words.buffer);
    if (!this.buildId) {
      if (hashMatches && bucket.nr === nr && equalBytes(bucket.data, ips, nr * 8)) return id;
      if (bucket && !(flags & BPF_F_REUSE_STACKID)) return errno('EEXIST');
    }
    // stackid_new_bucket: an element from the freelist
    if (this.used >= this.maxEntries) return errno('ENOMEM');
    this.used++;
    const data = new Uint8Array(this.valueSize);
    if (this.buildId) writeBuildIdEntries(new DataView(data.buffer), 0, Array.from({ length: nr }, (_, i) => dv.getBigUint64(i * 8, true)));
    else data.set(ips);
    if (this.buildId && bucket) {
      // stackid_install: build-id chains are compared after they are built; the element goes back on a match or a refusal.
      const same = hashMatches && bucket.nr === nr && equalBytes(bucket.data, data, nr * BUILD_ID_ENTRY_SIZE);
      if (same || !(flags & BPF_F_REUSE_STACKID)) {
        this.used--;
        return same ? id : errno('EEXIST');
      }
    }
    if (bucket) this.used--; // the replaced element returns to the freelist
    this.buckets.set(id, { hash, nr, data });
    return id;
  }

  /** The stored frames of stack `id` (innermost first), or undefined when the id holds none. */
  frames(id: number): bigint[] | undefined {
    this.checkHostRead();
    const b = this.buckets.get(id);
    if (!b) return undefined;
    const dv = new DataView(b.data.buffer);
    const out: bigint[] = [];
    for (let i = 0; i < b.nr; i++) out.push(dv.getBigUint64(this.buildId ? i * BUILD_ID_ENTRY_SIZE + BUILD_ID_IP_OFFSET : i * 8, true));
    return out;
  }

  private idOf(key: KeyInput): number {
    const k = this.tmpKey(key);
    return new DataView(k.buffer, k.byteOffset).getUint32(0, true);
  }

  /** stack_map_delete_elem: E2BIG past the buckets, ENOENT for an empty id. */
  private deleteId(id: number): number {
    if (id >= this.nBuckets) return errno('E2BIG');
    if (!this.buckets.delete(id)) return errno('ENOENT');
    this.used--; // the element returns to the freelist
    return 0;
  }

  /** bpf_stackmap_copy: the value of stack `key` (frames, then zeros), or undefined (ENOENT). */
  override get(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    return this.buckets.get(this.idOf(key))?.data.slice();
  }
  /** stack_map_update_elem: EINVAL, chains are added only by bpf_get_stackid. */
  override set(_key: KeyInput, _value: ValueInput, _flags = 0): void {
    this.checkHostWrite();
    throw this.err('EINVAL', 'stack_trace maps are filled by bpf_get_stackid only');
  }
  /** stack_map_delete_elem: E2BIG past the buckets, ENOENT for an empty id. */
  override delete(key: KeyInput): void {
    this.checkHostWrite();
    const id = this.idOf(key);
    this.throwErrno(this.deleteId(id), id >= this.nBuckets ? `stack id ${id} >= ${this.nBuckets} buckets` : `no stack with id ${id}`);
  }
  /** stack_map_get_next_key: the next used id after `key` (the first when `key` is absent, out of range or empty). */
  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    let after = -1;
    if (key !== undefined) {
      const id = this.idOf(key);
      if (id < this.nBuckets && this.buckets.has(id)) after = id;
    }
    let best = -1;
    for (const id of this.buckets.keys()) if (id > after && (best < 0 || id < best)) best = id;
    return best < 0 ? undefined : u32Key(best);
  }
  /** Every used id in order (the get-next-key walk without its quadratic cost). */
  override *keys(): IterableIterator<Uint8Array> {
    this.checkHostRead();
    for (const id of [...this.buckets.keys()].sort((a, b) => a - b)) if (this.buckets.has(id)) yield u32Key(id);
  }

  /** Program-side stack_map_delete_elem (the verifier allows only bpf_get_stackid on this type: raw callers only). */
  override deleteElem(keyAddr: number, _cpu = 0): number {
    return this.deleteId(this.space.view.getUint32(keyAddr, true));
  }

  protected override freeStorage(): void {
    this.buckets.clear();
    this.used = 0;
  }
}

function u32Key(id: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, id, true);
  return k;
}

function equalBytes(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
