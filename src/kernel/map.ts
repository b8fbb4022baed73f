/**
 * A map in the kernel, through its fd: the bpf(2) MAP_* commands behind the
 * same methods as the user-space BpfMap (runtime/api.ts MapApi), with the
 * same MapError and errno names. Per-CPU maps read and write one value per
 * possible CPU, each round_up(value_size, 8) bytes apart, as the kernel
 * copies them (bpf_percpu_*_copy).
 */
import { TsbpfError } from '../errors.js';
import { MapError, toBytes, type BatchResult, type KeyInput, type ValueInput } from '../maps/map.js';
import type { MapSpec, MapTypeName } from '../object/spec.js';
import type { MapApi } from '../runtime/api.js';
import { Attr, BATCH, ELEM, OBJ, cstr, nativeBuf } from './attr.js';
import { BPF_CMD, KernelError, kernelError, type Sys } from './ffi.js';
import { mapInfo, type MapInfo } from './info.js';

const PERCPU: ReadonlySet<MapTypeName> = new Set(['percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage']);
/** Types without keys (queue, stack, bloom filter: the value is the argument). */
const KEYLESS: ReadonlySet<MapTypeName> = new Set(['queue', 'stack', 'bloom_filter']);
const ENOENT = 2;

export type KernelValue = Uint8Array | Uint8Array[];

export class KernelMap implements MapApi<KernelValue> {
  readonly name: string;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly perCpu: boolean;
  /** possible CPUs (per-CPU value slots) */
  readonly numCpus: number;
  private closed = false;

  constructor(
    /** @internal the system calls (readers mmap the map through it) */
    readonly sys: Sys,
    /** the map's fd in this process */
    readonly fd: number,
    readonly id: number,
    readonly spec: MapSpec,
    possibleCpus: number,
  ) {
    this.name = spec.name;
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags;
    this.perCpu = PERCPU.has(spec.type);
    this.numCpus = this.perCpu ? possibleCpus : 1;
  }

  /** bytes of one value as bpf(2) copies it (all CPUs' slots for per-CPU maps) */
  private get valueBytes(): number {
    return this.perCpu ? Math.ceil(this.valueSize / 8) * 8 * this.numCpus : this.valueSize;
  }

  private err(e: unknown, what: string): never {
    if (e instanceof KernelError) throw new MapError(e.errno, `${what}: ${e.errno}`, this.name);
    throw e;
  }
  private check(): void {
    if (this.closed) throw new MapError('EBADF', 'map is closed', this.name);
  }
  private key(k: KeyInput): Uint8Array {
    return toBytes(k, this.keySize, 'key', this.name);
  }
  private value(v: KernelValue | ValueInput): Uint8Array {
    if (!this.perCpu) return toBytes(v as ValueInput, this.valueSize, 'value', this.name);
    const stride = Math.ceil(this.valueSize / 8) * 8;
    const out = nativeBuf(this.valueBytes);
    const parts = Array.isArray(v) ? v : Array.from({ length: this.numCpus }, () => v as ValueInput);
    if (parts.length !== this.numCpus) throw new MapError('EINVAL', `a per-CPU value needs ${this.numCpus} values (one per possible CPU), got ${parts.length}`, this.name);
    parts.forEach((p, i) => out.set(toBytes(p, this.valueSize, 'value', this.name), i * stride));
    return out;
  }
  private decode(b: Uint8Array): KernelValue {
    if (!this.perCpu) return b;
    const stride = Math.ceil(this.valueSize / 8) * 8;
    return Array.from({ length: this.numCpus }, (_, i) => b.slice(i * stride, i * stride + this.valueSize));
  }

  /** One MAP_*_ELEM command: 0 or -errno. */
  private elem(cmd: number, key: Uint8Array | undefined, value: Uint8Array | undefined, flags = 0): number {
    this.check();
    const a = new Attr(this.sys);
    a.u32(ELEM.map_fd, this.fd);
    if (key) a.ptr(ELEM.key, key);
    if (value) a.ptr(ELEM.value, value);
    a.u64(ELEM.flags, flags);
    return this.sys.bpfTry(cmd, a.bytes);
  }

  private fail(rc: number, what: string, count?: number): never {
    const errno = kernelError('', -rc).errno;
    throw new MapError(errno, `${what}: ${errno}`, this.name, count);
  }

  get(key: KeyInput): KernelValue | undefined {
    const out = nativeBuf(this.valueBytes);
    const rc = KEYLESS.has(this.type) ? this.elem(BPF_CMD.MAP_LOOKUP_ELEM, undefined, out) : this.elem(BPF_CMD.MAP_LOOKUP_ELEM, this.key(key), out);
    if (rc === -ENOENT) return undefined;
    if (rc < 0) this.fail(rc, 'lookup');
    return this.decode(out);
  }
  set(key: KeyInput, value: KernelValue | ValueInput, flags = 0): void {
    const rc = KEYLESS.has(this.type) ? this.elem(BPF_CMD.MAP_UPDATE_ELEM, undefined, this.value(value), flags) : this.elem(BPF_CMD.MAP_UPDATE_ELEM, this.key(key), this.value(value), flags);
    if (rc < 0) this.fail(rc, 'update');
  }
  /** queue/stack: BPF_MAP_UPDATE_ELEM without a key (push). */
  push(value: ValueInput, flags = 0): void {
    this.set(0, value, flags);
  }
  delete(key: KeyInput): void {
    const rc = this.elem(BPF_CMD.MAP_DELETE_ELEM, this.key(key), undefined);
    if (rc < 0) this.fail(rc, 'delete');
  }
  has(key: KeyInput): boolean {
    return this.get(key) !== undefined;
  }
  lookupAndDelete(key: KeyInput): KernelValue | undefined {
    const out = nativeBuf(this.valueBytes);
    const rc = this.elem(BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, KEYLESS.has(this.type) ? undefined : this.key(key), out);
    if (rc === -ENOENT) return undefined;
    if (rc < 0) this.fail(rc, 'lookup_and_delete');
    return this.decode(out);
  }
  nextKey(key?: KeyInput): Uint8Array | undefined {
    this.check();
    const out = nativeBuf(this.keySize);
    const a = new Attr(this.sys);
    a.u32(ELEM.map_fd, this.fd);
    if (key !== undefined) a.ptr(ELEM.key, this.key(key));
    const buf = a.ptr(ELEM.next_key, out);
    const rc = this.sys.bpfTry(BPF_CMD.MAP_GET_NEXT_KEY, a.bytes);
    if (rc === -ENOENT) return undefined;
    if (rc < 0) this.fail(rc, 'get_next_key');
    return buf.slice();
  }

  *keys(): IterableIterator<Uint8Array> {
    let k = this.nextKey();
    let guard = 0;
    while (k !== undefined) {
      yield k;
      k = this.nextKey(k);
      // a hash map modified during the walk restarts it (the kernel's get_next_key on a missing key)
      if (++guard > this.maxEntries * 2 + 16) throw new MapError('ELOOP', 'key iteration did not terminate', this.name);
    }
  }
  *values(): IterableIterator<KernelValue> {
    for (const [, v] of this.entries()) yield v;
  }
  *entries(): IterableIterator<[Uint8Array, KernelValue]> {
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }
  [Symbol.iterator](): IterableIterator<[Uint8Array, KernelValue]> {
    return this.entries();
  }

  /** BPF_MAP_LOOKUP_BATCH / LOOKUP_AND_DELETE_BATCH: up to `count` elements after `cursor`. */
  private batchRead(cmd: number, count: number, cursor: Uint8Array | undefined, elemFlags: number): BatchResult<KernelValue> {
    this.check();
    if (count <= 0) return { keys: [], values: [], cursor, done: false };
    // the batch token: hash maps keep a bucket index (u32), arrays a key; key_size bytes hold either
    const tok = Math.max(this.keySize, 4);
    const a = new Attr(this.sys);
    if (cursor) a.ptr(BATCH.in_batch, cursor);
    const out = a.ptr(BATCH.out_batch, nativeBuf(tok));
    const keys = a.ptr(BATCH.keys, nativeBuf(this.keySize * count));
    const vals = a.ptr(BATCH.values, nativeBuf(this.valueBytes * count));
    a.u32(BATCH.count, count).u32(BATCH.map_fd, this.fd).u64(BATCH.elem_flags, elemFlags);
    const rc = this.sys.bpfTry(cmd, a.bytes);
    if (rc < 0 && rc !== -ENOENT) this.fail(rc, cmd === BPF_CMD.MAP_LOOKUP_BATCH ? 'lookup_batch' : 'lookup_and_delete_batch');
    const n = a.getU32(BATCH.count);
    const res: BatchResult<KernelValue> = { keys: [], values: [], cursor: out.slice(), done: rc === -ENOENT };
    for (let i = 0; i < n; i++) {
      res.keys.push(keys.slice(i * this.keySize, (i + 1) * this.keySize));
      res.values.push(this.decode(vals.slice(i * this.valueBytes, (i + 1) * this.valueBytes)));
    }
    return res;
  }
  lookupBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<KernelValue> {
    return this.batchRead(BPF_CMD.MAP_LOOKUP_BATCH, count, cursor, elemFlags);
  }
  lookupAndDeleteBatch(count: number, cursor?: Uint8Array, elemFlags = 0): BatchResult<KernelValue> {
    return this.batchRead(BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH, count, cursor, elemFlags);
  }
  /** BPF_MAP_UPDATE_BATCH; a failure is thrown with `count` = elements done, as the user-space maps do. */
  updateBatch(keys: KeyInput[], values: Array<KernelValue | ValueInput>, elemFlags = 0): number {
    if (keys.length !== values.length) throw new MapError('EINVAL', 'keys and values differ in length', this.name);
    return this.batchWrite(BPF_CMD.MAP_UPDATE_BATCH, keys, values, elemFlags);
  }
  deleteBatch(keys: KeyInput[], elemFlags = 0): number {
    return this.batchWrite(BPF_CMD.MAP_DELETE_BATCH, keys, undefined, elemFlags);
  }
  private batchWrite(cmd: number, keys: KeyInput[], values: Array<KernelValue | ValueInput> | undefined, elemFlags: number): number {
    this.check();
    const kb = nativeBuf(this.keySize * keys.length);
    keys.forEach((k, i) => kb.set(this.key(k), i * this.keySize));
    const a = new Attr(this.sys);
    a.ptr(BATCH.keys, kb);
    if (values) {
      const vb = nativeBuf(this.valueBytes * values.length);
      values.forEach((v, i) => vb.set(this.value(v), i * this.valueBytes));
      a.ptr(BATCH.values, vb);
    }
    a.u32(BATCH.count, keys.length).u32(BATCH.map_fd, this.fd).u64(BATCH.elem_flags, elemFlags);
    const rc = this.sys.bpfTry(cmd, a.bytes);
    const n = a.getU32(BATCH.count);
    if (rc < 0) this.fail(rc, `${cmd === BPF_CMD.MAP_UPDATE_BATCH ? 'update' : 'delete'}_batch`, n);
    return n;
  }

  /** BPF_MAP_FREEZE: bpf(2) writes are refused from now on (programs still write unless BPF_F_RDONLY_PROG). */
  /** bpf_map_info as the kernel reports it now (btf_id, memlock, frozen, ...) */
  info(): MapInfo {
    this.check();
    return mapInfo(this.sys, this.fd);
  }

  freeze(): void {
    this.check();
    const a = new Attr(this.sys).u32(0, this.fd);
    try {
      this.sys.bpf(BPF_CMD.MAP_FREEZE, a.bytes);
    } catch (e) {
      this.err(e, 'freeze');
    }
  }

  /** BPF_OBJ_PIN at `path` in a bpffs (the map outlives this process). */
  pin(path: string): void {
    this.check();
    pinFd(this.sys, this.fd, path, `map ${this.name}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sys.close(this.fd);
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

/** BPF_OBJ_PIN of any bpf fd. */
export function pinFd(sys: Sys, fd: number, path: string, what: string): void {
  const a = new Attr(sys);
  a.ptr(OBJ.pathname, cstr(path));
  a.u32(OBJ.bpf_fd, fd);
  try {
    sys.bpf(BPF_CMD.OBJ_PIN, a.bytes, `${what} at ${path}`);
  } catch (e) {
    if (e instanceof KernelError && e.errno === 'EPERM') throw new TsbpfError('EPERM', `${e.message}: is ${path} in a bpffs (mount -t bpf bpf /sys/fs/bpf)?`);
    throw e;
  }
}

/** BPF_OBJ_GET: the fd of the object pinned at `path`. */
export function openPinned(sys: Sys, path: string): number {
  const a = new Attr(sys);
  a.ptr(OBJ.pathname, cstr(path));
  return sys.bpf(BPF_CMD.OBJ_GET, a.bytes, path);
}
