/**
 * Which maps can live in a shared address space (programs on several
 * threads), and how a thread opens a map another thread made there.
 *
 * A map can be shared when every byte of its state — not only the values —
 * is in the shared memory: arrays (values only), the hash kinds (the table
 * block and lock of hash-table.ts), ring buffers (the control block and lock
 * of ringbuf.ts) and prog_array (the slot words the creator mirrors into
 * memory). The others keep part of their state in JS objects of the thread
 * that made them (lpm_trie's nodes, queue/stack positions, map-in-map slots,
 * perf buffers, devmap entries) and are refused in a shared runtime with
 * ENOTSUPP rather than being silently racy.
 */
import type { MapSpec, MapTypeName } from '../object/spec.js';
import { arrayNextKey, BpfMap, MapError, type KeyInput, type MapContext, type ProgramRef } from './map.js';
import { MAP_CLASSES } from './classes.js';
import { RingBuf } from './ringbuf.js';

/** Map types whose whole state lives in the address space. */
const SHAREABLE_MAP_TYPES: ReadonlySet<MapTypeName> = new Set<MapTypeName>([
  'array',
  'percpu_array',
  'hash',
  'percpu_hash',
  'lru_hash',
  'lru_percpu_hash',
  'ringbuf',
  'prog_array',
]);

/** Refuse (ENOTSUPP, naming the map and its type) a map a shared runtime cannot hold. */
export function checkShareable(spec: MapSpec): void {
  if (!SHAREABLE_MAP_TYPES.has(spec.type))
    throw new MapError(
      'ENOTSUPP',
      `${spec.type} maps cannot be used in a shared runtime (programs on worker threads); shareable types: ${[...SHAREABLE_MAP_TYPES].join(', ')}`,
      spec.name,
    );
}

/** The state block a thread attaching to `m` needs (MapContext.attach.state). */
export function sharedStateOf(m: BpfMap<unknown>): number {
  if (m instanceof RingBuf) return m.ctrlAddr;
  const s = (m as { stateAddr?: unknown }).stateAddr;
  return typeof s === 'number' ? s : 0;
}

/**
 * Open, in this thread, the map another thread made in the shared space
 * (`ctx.attach` says where). The spec must be the map's own (max_entries as
 * created).
 */
export function attachMap(spec: MapSpec, ctx: MapContext): BpfMap<unknown> {
  if (!ctx.attach) throw new MapError('EINVAL', 'attachMap needs ctx.attach', spec.name);
  checkShareable(spec);
  // prog_array slots hold programs, which each thread compiles for itself: a worker gets its own view
  if (spec.type === 'prog_array') return new SharedProgArray(spec, ctx);
  return new MAP_CLASSES[spec.type]!(spec, ctx);
}

/**
 * A prog_array seen from a thread that did not make it: tail calls read the
 * program id in the slot word (ProgArray mirrors each slot there) and run
 * this thread's copy of that program. Slots are changed on the thread that
 * made the map (it holds the program references and the type rule); here
 * updates are refused with EPERM.
 */
export class SharedProgArray extends BpfMap<Uint8Array> {
  readonly slotsAddr: number;
  private readonly words: Int32Array;
  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.slotsAddr = this.space.readU32(this.addr + 24);
    this.words = new Int32Array(this.space.memory.buffer, this.slotsAddr, this.maxEntries);
  }
  private slot(index: number): number {
    return index < this.maxEntries ? Atomics.load(this.words, index) >>> 0 : 0;
  }
  /** The program id in slot `index` (tail calls), or undefined when empty. */
  getProgram(index: number): ProgramRef | undefined {
    const id = this.slot(index >>> 0);
    return id === 0 ? undefined : { id };
  }
  /** A program was unloaded on this thread: the slots belong to the creating thread, which clears them. */
  forget(_id: number): void {}
  override get(key: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    const k = this.key(key);
    const id = this.slot((k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24)) >>> 0);
    if (id === 0) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, id, true);
    return out;
  }
  override set(): void {
    throw this.err('EPERM', 'prog_array slots are set on the thread that created the runtime');
  }
  override delete(): void {
    throw this.err('EPERM', 'prog_array slots are deleted on the thread that created the runtime');
  }
  override nextKey(key?: KeyInput): Uint8Array | undefined {
    this.checkHostRead();
    if (key === undefined) return arrayNextKey(0xffffffff, this.maxEntries);
    const k = this.key(key);
    return arrayNextKey((k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24)) >>> 0, this.maxEntries);
  }
  protected override freeStorage(): void {}
}
