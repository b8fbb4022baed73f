/**
 * Objects the kernel already holds, reopened by id or by pin (what
 * bpftool's `map dump id N`, `prog run pinned PATH` do): an fd from
 * BPF_*_GET_FD_BY_ID or BPF_OBJ_GET, the object's attributes from
 * BPF_OBJ_GET_INFO_BY_FD, and a map's BTF fetched back from the kernel
 * (BPF_BTF_GET_FD_BY_ID, then the raw bytes through bpf_btf_info.btf) so
 * that its entries can be formatted by type, as bpftool's btf_dumper does.
 */
import { TsbpfError } from '../errors.js';
import { loadBtfFile, type Btf } from '../object/btf/index.js';
import type { MapSpec, ProgramSpec } from '../object/spec.js';
import { BTF_INFO, nativeBuf } from './attr.js';
import type { Sys } from './ffi.js';
import { fdById, infoOf, mapInfo, progInfo, type ObjKind } from './info.js';
import { KernelMap, openPinned } from './map.js';

/** A kernel object named as bpftool names it: `id N` or `pinned PATH`. */
export type KernelRef = { id: number } | { pinned: string };

/** An fd for the object (ENOENT when no such id or pin; EPERM without the right). */
export function openRef(sys: Sys, kind: ObjKind, ref: KernelRef): number {
  return 'id' in ref ? fdById(sys, kind, ref.id) : openPinned(sys, ref.pinned);
}

/** The map behind `fd` (taken over: closing the map closes it), its spec made from the kernel's attributes. */
export function kernelMapOf(sys: Sys, fd: number, possibleCpus: number, what: string): KernelMap {
  const info = mapInfo(sys, fd);
  if (typeof info.type === 'number') {
    sys.close(fd);
    throw new TsbpfError('ENOTSUPP', `${what}: map type ${info.type} is unknown to tsbpf`);
  }
  const spec: MapSpec = { name: info.name, type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags, pinning: 'none' };
  if (info.btfValueTypeId) {
    spec.btfValueTypeId = info.btfValueTypeId;
    if (info.btfKeyTypeId) spec.btfKeyTypeId = info.btfKeyTypeId;
  }
  return new KernelMap(sys, fd, info.id, spec, possibleCpus);
}

/**
 * The spec of a program the kernel holds: its name and type from
 * bpf_prog_info; no instructions (they are the kernel's), no section, so
 * it runs (BPF_PROG_TEST_RUN) and attaches to explicit targets only.
 */
export function kernelProgramSpec(sys: Sys, fd: number, what: string): ProgramSpec {
  const info = progInfo(sys, fd);
  if (typeof info.type === 'number') throw new TsbpfError('ENOTSUPP', `${what}: program type ${info.type} is unknown to tsbpf`);
  return { name: info.name, section: '', type: info.type, license: info.gplCompatible ? 'GPL' : '', insns: [], references: [] };
}

/** The BTF object `btfId` as the kernel keeps it, parsed (a module's split BTF on `base`). */
export function kernelBtf(sys: Sys, btfId: number, base?: Btf): Btf {
  const fd = fdById(sys, 'btf', btfId);
  try {
    const size = infoOf(sys, fd, BTF_INFO.size).getUint32(BTF_INFO.btf_size, true);
    const raw = nativeBuf(size);
    infoOf(sys, fd, BTF_INFO.size, (dv) => {
      dv.setBigUint64(BTF_INFO.btf, sys.address(raw), true);
      dv.setUint32(BTF_INFO.btf_size, size, true);
    });
    return loadBtfFile(raw, base);
  } finally {
    sys.close(fd);
  }
}
