/**
 * The maps layer's BpfMap seen through the helper ABI (helpers/env.ts
 * HelperMap). The maps layer takes numeric flags and names its program-side
 * operations after the kernel's map_ops (lookupElem, updateElem, ...); this
 * thin view asks the map's ops table (maps/ops.ts) and adds what helpers need on top: for_each
 * iteration over the kernel's get-next-key order, perf samples, prog_array
 * slots.
 */
import type { BpfMap } from '../maps/map.js';
import { RingBuf } from '../maps/ringbuf.js';
import { PerfEventArray } from '../maps/perf-event-array.js';
import { StackTraceMap } from '../maps/stack-trace.js';
import { CgroupArray } from '../maps/cgroup-array.js';
import { LocalStorageMap } from '../maps/local-storage.js';
import type { HelperMap } from '../helpers/env.js';
import type { Executable } from '../vm/engine.js';
import { owning } from './confine.js';

/** Flags above 32 bits are never valid for map ops: pass them through as an impossible value so the map refuses them. */
const flagNum = (f: bigint): number => (f > 0x7fffffffn ? 0x7fffffff : Number(f));

/**
 * `tag`: the map's probe-domain tag (confine.ts): regions the map adds while
 * a program updates it (elements allocated on insert) carry it.
 */
export function helperMapOf(map: BpfMap<unknown>, programAt: (m: BpfMap<unknown>, index: number) => Executable | undefined, tag?: object): HelperMap {
  const space = map.space;
  const ops = map.ops;
  const view: HelperMap = {
    addr: map.addr,
    type: map.type,
    keySize: map.keySize,
    valueSize: map.valueSize,
    maxEntries: map.maxEntries,
    lookup: (k, cpu) => ops.lookupElem(k, cpu),
    update: (k, v, flags, cpu) => owning(space, tag, () => ops.updateElem(k, v, flagNum(flags), cpu)),
    delete: (k, cpu) => ops.deleteElem(k, cpu),
    push: (v, flags) => owning(space, tag, () => ops.pushElem(v, flagNum(flags))),
    pop: (v) => ops.popElem(v),
    peek: (v) => ops.peekElem(v),
  };
  if (map instanceof RingBuf) {
    view.reserve = (size, flags) => map.reserve(size, flagNum(flags));
    view.submit = (rec, flags) => map.submit(rec, flagNum(flags));
    view.discard = (rec, flags) => map.discard(rec, flagNum(flags));
    view.output = (data, size, flags) => map.output(data, size, flagNum(flags));
    view.query = (flags) => map.query(flagNum(flags));
  }
  // deliver() also wakes the map's readers (PerfEventArray.onRecord), as output() does.
  if (map instanceof PerfEventArray) view.perfOutput = (index, data) => map.deliver(index, data);
  if (map instanceof StackTraceMap) view.stackId = (chain, flags) => map.stackId(chain, flags);
  if (map instanceof CgroupArray) view.cgroupAt = (i) => map.cgroupAt(i);
  if (map.type === 'prog_array') view.progAt = (i) => programAt(map, i);
  if (map instanceof LocalStorageMap) {
    view.storageGet = (owner, init, create) => owning(space, tag, () => map.storageGet(owner, init, create));
    view.storageDelete = (owner) => map.storageDelete(owner);
  }
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
          const v = ops.lookupElem(key, cpu);
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
