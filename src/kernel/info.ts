/**
 * The kernel's objects by id, as bpftool walks them: BPF_*_GET_NEXT_ID,
 * BPF_*_GET_FD_BY_ID and BPF_OBJ_GET_INFO_BY_FD, decoded into the fields
 * `bpftool prog|map|link|btf show` prints (struct bpf_prog_info and friends,
 * offsets in attr.ts).
 */
import { readFileSync } from 'node:fs';
import { MapType, ProgType, type MapTypeName, type ProgTypeName } from '../object/spec.js';
import { ATTACH_TYPE, Attr, BTF_INFO, ID, INFO, LINK_INFO, LINK_TYPE_NAMES, MAP_INFO, PROG_INFO, nativeBuf } from './attr.js';
import { ERRNO_VALUES } from '../errors.js';
import { BPF_CMD, kernelError, type Sys } from './ffi.js';

const PROG_NAMES = Object.fromEntries(Object.entries(ProgType).map(([k, v]) => [v, k])) as Record<number, ProgTypeName>;
const MAP_NAMES = Object.fromEntries(Object.entries(MapType).map(([k, v]) => [v, k])) as Record<number, MapTypeName>;
const ATTACH_NAMES = Object.fromEntries(Object.entries(ATTACH_TYPE).map(([k, v]) => [v, k])) as Record<number, string>;

export type ObjKind = 'prog' | 'map' | 'link' | 'btf';
const NEXT_ID: Record<ObjKind, number> = { prog: BPF_CMD.PROG_GET_NEXT_ID, map: BPF_CMD.MAP_GET_NEXT_ID, link: BPF_CMD.LINK_GET_NEXT_ID, btf: BPF_CMD.BTF_GET_NEXT_ID };
const FD_BY_ID: Record<ObjKind, number> = { prog: BPF_CMD.PROG_GET_FD_BY_ID, map: BPF_CMD.MAP_GET_FD_BY_ID, link: BPF_CMD.LINK_GET_FD_BY_ID, btf: BPF_CMD.BTF_GET_FD_BY_ID };

/** Every id of that kind, in order (an id freed during the walk is skipped, as bpftool does). */
export function* ids(sys: Sys, kind: ObjKind): Generator<number> {
  let id = 0;
  for (;;) {
    const a = new Attr(sys).u32(ID.start_id, id);
    const rc = sys.bpfTry(NEXT_ID[kind], a.bytes);
    // ENOENT ends the walk; anything else (EPERM without CAP_SYS_ADMIN) is an error, as bpftool
    // says "can't get next program": never an empty listing that looks like a machine without programs.
    if (rc === -ERRNO_VALUES.ENOENT) return;
    if (rc < 0) throw kernelError(`bpf(BPF_${kind.toUpperCase()}_GET_NEXT_ID)`, -rc, `after ${kind} id ${id}`);
    id = a.getU32(ID.next_id);
    yield id;
  }
}

/** An fd for the object with that id (ENOENT when it is gone). */
export function fdById(sys: Sys, kind: ObjKind, id: number): number {
  return sys.bpf(FD_BY_ID[kind], new Attr(sys).u32(ID.start_id, id).bytes, `${kind} id ${id}`);
}

/** BPF_OBJ_GET_INFO_BY_FD into a zeroed struct of `size` bytes, `fill` setting its pointers first. */
export function infoOf(sys: Sys, fd: number, size: number, fill?: (dv: DataView) => void): DataView {
  const info = nativeBuf(size);
  const dv = new DataView(info.buffer);
  fill?.(dv);
  const a = new Attr(sys).u32(INFO.bpf_fd, fd).u32(INFO.info_len, size);
  a.ptr(INFO.info, info);
  sys.bpf(BPF_CMD.OBJ_GET_INFO_BY_FD, a.bytes);
  return dv;
}

const cname = (dv: DataView, off: number, len: number): string => {
  const b = new Uint8Array(dv.buffer, off, len);
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 ? len : end));
};

/** The `memlock` and other lines of /proc/self/fdinfo/FD, as bpftool reads them. */
function fdinfo(fd: number): Record<string, string> {
  try {
    const out: Record<string, string> = {};
    for (const l of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
      const m = /^([a-z_]+):\s*(.*)$/.exec(l);
      if (m) out[m[1]!] = m[2]!;
    }
    return out;
  } catch {
    return {};
  }
}

export interface ProgInfo {
  id: number;
  type: ProgTypeName | number;
  name: string;
  tag: string;
  gplCompatible: boolean;
  loadTime: bigint;
  uid: number;
  bytesXlated: number;
  bytesJited: number;
  bytesMemlock: number;
  mapIds: number[];
  btfId: number;
  runTimeNs: bigint;
  runCnt: bigint;
  recursionMisses: bigint;
  verifiedInsns: number;
}

export function progInfo(sys: Sys, fd: number): ProgInfo {
  // first the counts, then the map ids into a buffer of that size
  const first = infoOf(sys, fd, PROG_INFO.size);
  const nMaps = first.getUint32(PROG_INFO.nr_map_ids, true);
  const mapIds = nativeBuf(4 * Math.max(nMaps, 1));
  const dv = nMaps
    ? infoOf(sys, fd, PROG_INFO.size, (d) => {
        d.setUint32(PROG_INFO.nr_map_ids, nMaps, true);
        d.setBigUint64(PROG_INFO.map_ids, sys.address(mapIds), true);
      })
    : first;
  const t = dv.getUint32(PROG_INFO.type, true);
  const tag = Array.from(new Uint8Array(dv.buffer, PROG_INFO.tag, 8), (b) => b.toString(16).padStart(2, '0')).join('');
  const ids = Array.from({ length: nMaps }, (_, i) => new DataView(mapIds.buffer).getUint32(i * 4, true));
  return {
    id: dv.getUint32(PROG_INFO.id, true),
    type: PROG_NAMES[t] ?? t,
    name: cname(dv, PROG_INFO.name, 16),
    tag,
    gplCompatible: (dv.getUint32(PROG_INFO.gpl_compatible, true) & 1) === 1,
    loadTime: dv.getBigUint64(PROG_INFO.load_time, true),
    uid: dv.getUint32(PROG_INFO.created_by_uid, true),
    bytesXlated: dv.getUint32(PROG_INFO.xlated_prog_len, true),
    bytesJited: dv.getUint32(PROG_INFO.jited_prog_len, true),
    bytesMemlock: Number(fdinfo(fd).memlock ?? 0),
    mapIds: ids,
    btfId: dv.getUint32(PROG_INFO.btf_id, true),
    runTimeNs: dv.getBigUint64(PROG_INFO.run_time_ns, true),
    runCnt: dv.getBigUint64(PROG_INFO.run_cnt, true),
    recursionMisses: dv.getBigUint64(PROG_INFO.recursion_misses, true),
    verifiedInsns: dv.getUint32(PROG_INFO.verified_insns, true),
  };
}

export interface MapInfo {
  id: number;
  type: MapTypeName | number;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
  btfKeyTypeId: number;
  btfValueTypeId: number;
  mapExtra: bigint;
  bytesMemlock: number;
  frozen: boolean;
}

export function mapInfo(sys: Sys, fd: number): MapInfo {
  const dv = infoOf(sys, fd, MAP_INFO.size);
  const t = dv.getUint32(MAP_INFO.type, true);
  const fi = fdinfo(fd);
  return {
    id: dv.getUint32(MAP_INFO.id, true),
    type: MAP_NAMES[t] ?? t,
    name: cname(dv, MAP_INFO.name, 16),
    keySize: dv.getUint32(MAP_INFO.key_size, true),
    valueSize: dv.getUint32(MAP_INFO.value_size, true),
    maxEntries: dv.getUint32(MAP_INFO.max_entries, true),
    flags: dv.getUint32(MAP_INFO.map_flags, true),
    btfId: dv.getUint32(MAP_INFO.btf_id, true),
    btfKeyTypeId: dv.getUint32(MAP_INFO.btf_key_type_id, true),
    btfValueTypeId: dv.getUint32(MAP_INFO.btf_value_type_id, true),
    mapExtra: dv.getBigUint64(MAP_INFO.map_extra, true),
    bytesMemlock: Number(fi.memlock ?? 0),
    frozen: fi.frozen === '1',
  };
}

export interface LinkInfo {
  id: number;
  type: string;
  progId: number;
  /** the type-specific fields bpftool prints (ifindex, attach_type, tp_name, cgroup_id, ...) */
  details: Record<string, string | number | bigint>;
}

export function linkInfo(sys: Sys, fd: number): LinkInfo {
  const tpName = nativeBuf(256);
  const dv = infoOf(sys, fd, LINK_INFO.size);
  const t = dv.getUint32(LINK_INFO.type, true);
  const type = LINK_TYPE_NAMES[t] ?? String(t);
  const u = LINK_INFO.u;
  const details: Record<string, string | number | bigint> = {};
  const attach = (off: number): string => ATTACH_NAMES[dv.getUint32(off, true)] ?? String(dv.getUint32(off, true));
  switch (type) {
    case 'raw_tracepoint': {
      // again with a buffer for the name (the kernel fills tp_name only when given one)
      infoOf(sys, fd, LINK_INFO.size, (d) => {
        d.setBigUint64(u, sys.address(tpName), true);
        d.setUint32(u + 8, tpName.length, true);
      });
      const end = tpName.indexOf(0);
      details.tp_name = new TextDecoder().decode(tpName.subarray(0, end < 0 ? 0 : end));
      break;
    }
    case 'tracing':
      details.attach_type = attach(u);
      details.target_obj_id = dv.getUint32(u + 4, true);
      details.target_btf_id = dv.getUint32(u + 8, true);
      break;
    case 'cgroup':
      details.cgroup_id = dv.getBigUint64(u, true);
      details.attach_type = attach(u + 8);
      break;
    case 'netns':
      details.netns_ino = dv.getUint32(u, true);
      details.attach_type = attach(u + 4);
      break;
    case 'xdp':
      details.ifindex = dv.getUint32(u, true);
      break;
    case 'tcx':
    case 'netkit':
      details.ifindex = dv.getUint32(u, true);
      details.attach_type = attach(u + 4);
      break;
    default:
      break;
  }
  return { id: dv.getUint32(LINK_INFO.id, true), type, progId: dv.getUint32(LINK_INFO.prog_id, true), details };
}

export interface BtfInfo {
  id: number;
  name: string;
  size: number;
  kernel: boolean;
}

export function btfInfo(sys: Sys, fd: number): BtfInfo {
  const name = nativeBuf(64);
  const dv = infoOf(sys, fd, BTF_INFO.size, (d) => {
    d.setBigUint64(BTF_INFO.name, sys.address(name), true);
    d.setUint32(BTF_INFO.name_len, name.length, true);
  });
  const end = name.indexOf(0);
  return {
    id: dv.getUint32(BTF_INFO.id, true),
    name: new TextDecoder().decode(name.subarray(0, end < 0 ? 0 : end)),
    size: dv.getUint32(BTF_INFO.btf_size, true),
    kernel: dv.getUint32(BTF_INFO.kernel_btf, true) !== 0,
  };
}
