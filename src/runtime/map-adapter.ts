/**
 * The maps layer's BpfMap seen through the helper ABI (helpers/env.ts
 * HelperMap). The maps layer takes numeric flags and names its program-side
 * operations after the kernel's map_ops (lookupElem, updateElem, ...); this
 * thin view adapts them and adds what helpers need on top: for_each
 * iteration over the kernel's get-next-key order, perf samples, prog_array
 * slots.
 */
import type { BpfMap } from '../maps/map.js';
import type { HelperMap } from '../helpers/env.js';
import type { Executable } from '../vm/engine.js';
import { ERRNO_VALUES } from '../errors.js';
import { owning } from './confine.js';

type AnyMap = BpfMap<unknown> & Record<string, unknown>;
/** A ring buffer's program-side operations (maps/ringbuf.ts), with numeric flags. */
interface RingOps {
  reserve(size: number, flags: number): number;
  submit(rec: number, flags: number): void;
  discard(rec: number, flags: number): void;
  output(data: number, size: number, flags: number): number;
}

/** Flags above 32 bits are never valid for map ops: pass them through as an impossible value so the map refuses them. */
const flagNum = (f: bigint): number => (f > 0x7fffffffn ? 0x7fffffff : Number(f));

/**
 * `tag`: the map's probe-domain tag (confine.ts): regions the map adds while
 * a program updates it (elements allocated on insert) carry it.
 */
export function helperMapOf(map: BpfMap<unknown>, programAt: (m: BpfMap<unknown>, index: number) => Executable | undefined, tag?: object): HelperMap {
  const m = map as AnyMap;
  const space = map.space;
  const call = <T>(name: string, ...args: unknown[]): T => (m[name] as (...a: unknown[]) => T).apply(m, args);
  const has = (name: string): boolean => typeof m[name] === 'function';
  const view: HelperMap = {
    addr: map.addr,
    type: map.type,
    keySize: map.keySize,
    valueSize: map.valueSize,
    maxEntries: map.maxEntries,
    lookup: (k, cpu) => map.lookupElem(k, cpu),
    update: (k, v, flags, cpu) => owning(space, tag, () => map.updateElem(k, v, flagNum(flags), cpu)),
    delete: (k, cpu) => map.deleteElem(k, cpu),
    push: (v, flags) => owning(space, tag, () => map.pushElem(v, flagNum(flags))),
    pop: (v) => map.popElem(v),
    peek: (v) => map.peekElem(v),
  };
  if (map.type === 'ringbuf') {
    // Bound directly (not through `call`): these run once per record.
    const rb = m as unknown as RingOps;
    view.reserve = (size, flags) => rb.reserve(size, flagNum(flags));
    view.submit = (rec, flags) => rb.submit(rec, flagNum(flags));
    view.discard = (rec, flags) => rb.discard(rec, flagNum(flags));
    view.output = (data, size, flags) => rb.output(data, size, flagNum(flags));
    view.query = (flags) => call<bigint>('query', flagNum(flags));
  }
  if (map.type === 'perf_event_array' && has('buffer')) {
    view.perfOutput = (index, data) => {
      // deliver() also wakes the map's readers (PerfEventArray.onRecord), as output() does.
      if (has('deliver')) return call<number>('deliver', index, data);
      const b = call<{ push(d: Uint8Array): boolean } | undefined>('buffer', index);
      if (!b) return -ERRNO_VALUES.ENOENT;
      return b.push(data) ? 0 : -ERRNO_VALUES.ENOSPC;
    };
  }
  if (map.type === 'prog_array') view.progAt = (i) => programAt(map, i);
  // bpf_for_each_map_elem: array, per-CPU array, hash kinds (kernel: map_ops->map_for_each_callback).
  if (FOR_EACH_TYPES.has(map.type)) {
    view.forEach = (cpu, visit) => {
      const key = space.alloc(Math.max(8, map.keySize));
      // The callback reads the key through its pointer: a read-only region in checked mode.
      const region = space.addRegion({ base: key, size: map.keySize, kind: 'map_key', name: `${map.name} key`, writable: false, ...(tag ? { owner: tag } : {}) });
      try {
        let n = 0;
        for (const k of map.keys()) {
          space.write(key, k);
          const v = map.lookupElem(key, cpu);
          if (v === 0) continue;
          n++;
          if (visit(key, v)) break;
        }
        return n;
      } finally {
        space.removeRegion(region);
        space.free(key);
      }
    };
  }
  return view;
}

const FOR_EACH_TYPES = new Set(['array', 'percpu_array', 'hash', 'percpu_hash', 'lru_hash', 'lru_percpu_hash']);
