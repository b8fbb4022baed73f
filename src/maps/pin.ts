/**
 * Pinning maps to disk (Node only): `pinMap(map, path)` writes a snapshot of
 * the map — its spec, frozen state and every entry (all CPUs' values for
 * per-CPU maps) — and `openPinnedMap(path, ctx)` makes a new map with the
 * same contents, in this or a later process.
 *
 * The kernel's bpffs pin is a live reference; tsbpf's is a snapshot taken at
 * pin time (pin again to save later changes). Writes are atomic: the file is
 * written under a temporary name in the same directory, fsync'ed and renamed
 * over the target (then the directory is fsync'ed), so a crash leaves either
 * the previous pin or the new one, never a torn file.
 *
 * What is kept per type: entries of array, percpu_array, hash, percpu_hash,
 * lru_hash, lru_percpu_hash (recency order is not kept), lpm_trie; queue and
 * stack elements in order; a bloom filter's bits and hash seed. Ring buffers,
 * perf event arrays, prog arrays, maps of maps and stack trace maps are
 * pinned as their spec only (their contents are records in flight, host
 * buffers, programs, other maps, and call chains only bpf_get_stackid can
 * store, which do not outlive the runtime); they reopen empty.
 *
 * File format (little-endian): "TSBPFPIN" | u32 version (1) | u32 header
 * length | header JSON | u32 payload length | payload | u32 CRC-32 of all the
 * preceding bytes. A file that fails any check is a PinFileError (EINVAL).
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { TsbpfError, type Errno } from '../errors.js';
import { FileError, readBounded } from '../bounded-read.js';
import type { MapSpec } from '../object/spec.js';
import { Btf } from '../object/btf/btf.js';
import { createMap } from './index.js';
import { BpfMap, MapError, type MapContext } from './map.js';
import { QueueMap, StackMap } from './queue-stack.js';
import type { OpenPinOptions, PinOptions, PinStore } from './pin-store.js';
import { BloomFilter } from './bloom-filter.js';

const MAGIC = 'TSBPFPIN';
const VERSION = 1;

/** A pin file that is missing, truncated, corrupted or from an unknown version. */
export class PinFileError extends TsbpfError {
  constructor(
    readonly path: string,
    reason: string,
    errno: Errno = 'EINVAL',
  ) {
    super(errno, `pinned map ${path}: ${reason}`);
  }
}

export interface PinHeader {
  spec: Omit<MapSpec, 'mapExtra' | 'innerMap' | 'contents'> & { mapExtra?: string; innerMap?: PinHeader['spec'] };
  /**
   * The BTF that spec.btfKeyTypeId / btfValueTypeId index (base64 of the
   * encoded blob), when the pinner gave it: the kernel keeps a map's BTF
   * with the map, and tools format its entries with it (bpftool map dump).
   */
  btf?: string;
  kind: 'entries' | 'queue' | 'bloom' | 'spec';
  numCpus: number;
  frozen: boolean;
  count: number;
  bloomSeed?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function specToJson(s: MapSpec): PinHeader['spec'] {
  const { mapExtra, innerMap, contents: _c, ...rest } = s;
  return { ...rest, ...(mapExtra !== undefined ? { mapExtra: mapExtra.toString() } : {}), ...(innerMap ? { innerMap: specToJson(innerMap) } : {}) };
}
function specFromJson(j: PinHeader['spec']): MapSpec {
  const { mapExtra, innerMap, ...rest } = j;
  return { ...rest, ...(mapExtra !== undefined ? { mapExtra: BigInt(mapExtra) } : {}), ...(innerMap ? { innerMap: specFromJson(innerMap) } : {}) } as MapSpec;
}

const ENTRY_TYPES = new Set(['array', 'percpu_array', 'hash', 'percpu_hash', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'devmap', 'devmap_hash']);

/** Serialize a map's state. */
function serializeMap(map: BpfMap<unknown>, btf?: Btf): Uint8Array {
  const chunks: Uint8Array[] = [];
  let count = 0;
  let kind: PinHeader['kind'] = 'spec';
  let bloomSeed: number | undefined;
  map.withHostAccess(() => {
    if (ENTRY_TYPES.has(map.type)) {
      kind = 'entries';
      for (const [k, v] of map.entries()) {
        chunks.push(k);
        if (Array.isArray(v)) for (const x of v) chunks.push(x as Uint8Array);
        else chunks.push(v as Uint8Array);
        count++;
      }
    } else if (map instanceof QueueMap || map instanceof StackMap) {
      kind = 'queue';
      for (const v of map.contents()) {
        chunks.push(v);
        count++;
      }
    } else if (map instanceof BloomFilter) {
      kind = 'bloom';
      chunks.push(map.bits().slice());
      bloomSeed = map.hashSeed;
      count = 1;
    }
  });
  const header: PinHeader = { spec: specToJson(map.spec), kind, numCpus: map.numCpus, frozen: map.frozen, count, ...(bloomSeed !== undefined ? { bloomSeed } : {}) };
  if (btf && map.spec.btfValueTypeId !== undefined) header.btf = Buffer.from(btf.encode('le')).toString('base64');
  const hj = new TextEncoder().encode(JSON.stringify(header));
  const payloadLen = chunks.reduce((a, c) => a + c.length, 0);
  const total = 8 + 4 + 4 + hj.length + 4 + payloadLen + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  dv.setUint32(8, VERSION, true);
  dv.setUint32(12, hj.length, true);
  out.set(hj, 16);
  let off = 16 + hj.length;
  dv.setUint32(off, payloadLen, true);
  off += 4;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  dv.setUint32(off, crc32(out.subarray(0, off)), true);
  return out;
}

/**
 * Pin `map` at `path` atomically. With `exclusive`, an existing file is EEXIST (like bpffs).
 * With `btf` (the BTF its spec's key and value type ids index), the pin keeps it for tools.
 */
export function pinMap(map: BpfMap<unknown>, path: string, opts: PinOptions = {}): void {
  if (map.closed) throw new MapError('EBADF', 'map is closed', map.name);
  if (opts.exclusive && existsSync(path)) throw new MapError('EEXIST', `${path} exists`, map.name);
  const data = serializeMap(map, opts.btf);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}

/** Parse and verify a pin file's bytes. */
function parsePin(path: string, b: Uint8Array): { header: PinHeader; payload: Uint8Array } {
  const bad = (why: string): never => {
    throw new PinFileError(path, why);
  };
  if (b.length < 24) bad(`file is ${b.length} bytes, too short`);
  if (new TextDecoder().decode(b.subarray(0, 8)) !== MAGIC) bad('not a tsbpf pin file (bad magic)');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) bad(`unknown version ${version}`);
  const hl = dv.getUint32(12, true);
  if (16 + hl + 8 > b.length) bad('truncated header');
  const pl = dv.getUint32(16 + hl, true);
  const end = 16 + hl + 4 + pl;
  if (end + 4 !== b.length) bad(`length mismatch (payload ${pl}, file ${b.length})`);
  if (crc32(b.subarray(0, end)) !== dv.getUint32(end, true)) bad('checksum mismatch (corrupted)');
  let header: PinHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(16, 16 + hl))) as PinHeader;
  } catch {
    return bad('header is not valid JSON');
  }
  if (!header || typeof header !== 'object' || !header.spec || typeof header.spec.type !== 'string') bad('header lacks a map spec');
  return { header, payload: b.subarray(16 + hl + 4, end) };
}

/** The BTF a pin file keeps for its key and value types, if any (a bad blob is a PinFileError). */
export function pinnedBtf(path: string, header: PinHeader): Btf | undefined {
  if (typeof header.btf !== 'string') return undefined;
  try {
    return Btf.parse(new Uint8Array(Buffer.from(header.btf, 'base64')));
  } catch (e) {
    throw new PinFileError(path, `its BTF does not parse: ${(e as Error).message}`);
  }
}

/** Read a pin file (bounded: it is untrusted input) and check it; the header says what map it holds. */
export function readPin(path: string): { header: PinHeader; payload: Uint8Array } {
  let raw: Uint8Array;
  try {
    // a stream that is not a pin file is refused at its first bytes
    raw = readBounded(path, { kind: 'pin', magic: { prefixes: [[...new TextEncoder().encode(MAGIC)]], error: () => new PinFileError(path, 'not a tsbpf pin file (bad magic)') } });
  } catch (e) {
    throw e instanceof FileError ? new PinFileError(path, `cannot ${e.op}: ${e.detail}`, e.errno) : e;
  }
  return parsePin(path, raw);
}

/**
 * Reopen a pinned map in `ctx`'s runtime, with a read-write handle unless
 * `mode` says otherwise (BPF_OBJ_GET's file_flags). Per-CPU maps need the same CPU
 * count: when ctx.numCpus is given and differs, EINVAL; when absent, the
 * pinned count is used.
 */
export function openPinnedMap(path: string, ctx: MapContext, opts: OpenPinOptions = {}): BpfMap<unknown> {
  const { header, payload } = readPin(path);
  const spec = specFromJson(header.spec);
  const perCpu = /percpu/.test(spec.type);
  if (perCpu && ctx.numCpus !== undefined && ctx.numCpus !== header.numCpus)
    throw new MapError('EINVAL', `pinned with ${header.numCpus} CPUs, runtime has ${ctx.numCpus}`, spec.name);
  const map = createMap(spec, { ...ctx, numCpus: perCpu ? header.numCpus : ctx.numCpus });
  try {
    map.withHostAccess(() => restore(map, header, payload, path));
  } catch (e) {
    map.close();
    if (e instanceof TsbpfError && !(e instanceof PinFileError)) throw new PinFileError(path, `entries do not fit the spec: ${e.message}`);
    throw e;
  }
  if (header.frozen) map.freeze();
  // Like BPF_OBJ_GET: the reopened handle's mode comes from the opener, not from the creation flags.
  map.fileMode = opts.mode ?? 'rw';
  return map;
}

function restore(map: BpfMap<unknown>, h: PinHeader, p: Uint8Array, path: string): void {
  const need = (n: number): void => {
    if (p.length !== n) throw new PinFileError(path, `payload is ${p.length} bytes, expected ${n}`);
  };
  if (h.kind === 'entries') {
    const slots = map.perCpu ? map.numCpus : 1;
    const rec = map.keySize + map.valueSize * slots;
    need(rec * h.count);
    for (let i = 0, off = 0; i < h.count; i++, off += rec) {
      const k = p.slice(off, off + map.keySize);
      if (map.perCpu) {
        const vs: Uint8Array[] = [];
        for (let c = 0; c < slots; c++) vs.push(p.slice(off + map.keySize + c * map.valueSize, off + map.keySize + (c + 1) * map.valueSize));
        (map as BpfMap<Uint8Array[]>).set(k, vs);
      } else (map as BpfMap<Uint8Array>).set(k, p.slice(off + map.keySize, off + rec));
    }
  } else if (h.kind === 'queue') {
    need(map.valueSize * h.count);
    if (!(map instanceof QueueMap) && !(map instanceof StackMap)) throw new MapError('EINVAL', `pin file holds a queue, map ${map.name} is a ${map.type}`, map.name);
    const q = map;
    for (let i = 0; i < h.count; i++) q.push(p.slice(i * map.valueSize, (i + 1) * map.valueSize));
  } else if (h.kind === 'bloom') {
    if (!(map instanceof BloomFilter)) throw new MapError('EINVAL', `pin file holds a bloom filter, map ${map.name} is a ${map.type}`, map.name);
    const bf = map;
    need(bf.nrBits / 8);
    bf.restore(h.bloomSeed ?? 0, p);
  } else need(0);
}

/**
 * The PinStore over files (pin-store.ts): what the Node entry gives its
 * Runtime, so `map.pin(path)` writes a pin file and
 * `runtime.openPinnedMap(path)` reads one.
 */
export const filePins: PinStore = {
  pin: (map, path, opts) => pinMap(map, path, opts),
  open: (path, ctx, opts) => openPinnedMap(path, ctx, opts),
};
