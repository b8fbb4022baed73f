/**
 * The interface both backends satisfy: the user-space Runtime (runtime.ts)
 * and the Linux kernel's (src/kernel, `tsbpf/kernel`). Code and tests typed
 * against these run unchanged on either: load a CollectionSpec, take
 * programs and maps by name, run programs as BPF_PROG_TEST_RUN does, and
 * read and write maps as bpf(2)'s MAP_* commands do, with the same errors
 * (MapError, TestRunError, VerifierError and their errno names).
 */
import type { BatchResult, KeyInput, ValueInput } from '../maps/map.js';
import type { CollectionSpec, MapSpec, MapTypeName, ProgTypeName } from '../object/spec.js';
import type { BtfValue } from '../object/btf/codec.js';
import type { TestRunOptions, TestRunResult } from './testrun/types.js';

/** A map of either backend (kernel: a map fd; user space: a BpfMap). */
export interface MapApi<V = unknown> {
  readonly name: string;
  readonly type: MapTypeName;
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** the spec it was made from (BTF key/value ids for TypedMap) */
  readonly spec: MapSpec;
  /** per-CPU maps read and write one value per CPU */
  readonly perCpu: boolean;
  readonly numCpus: number;
  get(key: KeyInput): V | undefined;
  set(key: KeyInput, value: V | ValueInput, flags?: number): void;
  delete(key: KeyInput): void;
  has(key: KeyInput): boolean;
  nextKey(key?: KeyInput): Uint8Array | undefined;
  lookupAndDelete(key: KeyInput): V | undefined;
  keys(): IterableIterator<Uint8Array>;
  values(): IterableIterator<V>;
  entries(): IterableIterator<[Uint8Array, V]>;
  lookupBatch(count: number, cursor?: Uint8Array, elemFlags?: number): BatchResult<V>;
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array, elemFlags?: number): BatchResult<V>;
  updateBatch(keys: KeyInput[], values: Array<V | ValueInput>, elemFlags?: number): number;
  deleteBatch(keys: KeyInput[], elemFlags?: number): number;
  freeze(): void;
  pin(path: string): void;
  close(): void;
  [Symbol.dispose](): void;
}

/** A loaded program of either backend. */
export interface ProgramApi {
  readonly name: string;
  readonly type: ProgTypeName;
  readonly id: number;
  /** BPF_PROG_TEST_RUN */
  run(opts?: TestRunOptions): TestRunResult;
  close(): void;
  [Symbol.dispose](): void;
}

/** A global variable of a loaded object (runtime/variables.ts). */
export interface VariableApi<T extends BtfValue = BtfValue> {
  readonly name: string;
  get(): T;
  set(value: T | Uint8Array): void;
}

/** The programs and maps of one loaded object. */
export interface CollectionApi {
  readonly name: string;
  readonly programs: ReadonlyMap<string, ProgramApi>;
  readonly maps: ReadonlyMap<string, MapApi>;
  /** global variables (.data, .bss, .rodata) by name */
  readonly variables: ReadonlyMap<string, VariableApi>;
  program(name: string): ProgramApi;
  /** the map `name`; with `type`, EINVAL when it is of another type */
  map(name: string, type?: MapTypeName): MapApi;
  close(): void;
  [Symbol.dispose](): void;
}

/** What `load` takes in both backends. */
export interface LoadOptionsApi {
  /** load only these programs (by name); default all */
  programs?: string[];
  /** override map specs by name before creation */
  mapOverrides?: Record<string, Partial<MapSpec>>;
  /** verifier log level */
  logLevel?: 0 | 1 | 2;
}

export interface RuntimeApi {
  load(spec: CollectionSpec, opts?: LoadOptionsApi): Promise<CollectionApi>;
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * What the ring buffer readers of both backends offer (maps/ringbuf-reader.ts
 * RingBufReader, kernel/ringbuf.ts KernelRingBufReader): records as an async
 * iterable, drained by `read()`, until `close()` or the reader's AbortSignal.
 * The user-space reader also counts what producers dropped (`lost`); Linux's
 * ring buffer keeps no such count for user space.
 */
export interface RingBufReaderApi extends AsyncIterable<Uint8Array> {
  /** records read */
  readonly records: number;
  /** drain the records available now */
  read(max?: number): Uint8Array[];
  close(): void;
  [Symbol.dispose](): void;
}

export type { ReaderOptions } from '../maps/wakeup.js';
