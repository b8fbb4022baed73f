/**
 * Where pinned maps live (the kernel's bpffs; BPF_OBJ_PIN and BPF_OBJ_GET):
 * the one mechanism behind `map.pin(path)`, `runtime.openPinnedMap(path)`
 * and the maps an object declares `pinning: LIBBPF_PIN_BY_NAME`
 * (LoadOptions.pinPath). A runtime is given its store (RuntimeOptions.pins);
 * the core has no file system, so it has none by default, and the Node entry
 * gives its Runtime the file store of pin.ts. A browser host can bring its
 * own (IndexedDB, memory).
 */
import type { Btf } from '../object/btf/btf.js';
import type { BpfMap, MapContext } from './map.js';

export interface PinOptions {
  /** refuse to replace an existing pin (EEXIST), as BPF_OBJ_PIN on an existing path */
  exclusive?: boolean;
  /** the BTF the map's btfKeyTypeId / btfValueTypeId index, kept with the pin for tools that format entries */
  btf?: Btf;
}

export interface OpenPinOptions {
  /** the access mode of the handle (BPF_OBJ_GET's file_flags): default read-write */
  mode?: 'rw' | 'r' | 'w';
}

export interface PinStore {
  /** BPF_OBJ_PIN: pin `map` at `path`. */
  pin(map: BpfMap<unknown>, path: string, opts?: PinOptions): void;
  /**
   * BPF_OBJ_GET: the map pinned at `path`, made anew in the runtime `ctx`
   * describes. Nothing pinned there is a TsbpfError with errno ENOENT.
   */
  open(path: string, ctx: MapContext, opts?: OpenPinOptions): BpfMap<unknown>;
}

/** `name` under the pin root `dir` (libbpf's pin_root_path + "/" + map name). */
export function pinPathOf(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
