/**
 * The kernel's objects as `bpftool prog|map|link|btf show` lists them, in
 * bpftool's JSON field names and plain layouts (bpftool's prog.c, map.c,
 * link.c, btf.c show_*_plain / show_*_json). `kernelListing()` is the hook
 * the CLI's `prog show` looks for (src/cli/listing.ts); the other commands
 * use the same objects (src/cli/commands/kernel-show.ts).
 */
import { hrtime } from 'node:process';
import { TsbpfError } from '../errors.js';
import { openSys, type Sys } from './ffi.js';
import { btfInfo, fdById, ids, linkInfo, mapInfo, progInfo, type ObjKind } from './info.js';
import { openPinned } from './map.js';

export interface ProgJson {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited?: number;
  bytes_memlock?: number;
  map_ids?: number[];
  btf_id?: number;
}

export interface MapJson {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  bytes_memlock: number;
  frozen: number;
  btf_id?: number;
}

export interface LinkJson {
  id: number;
  type: string;
  prog_id: number;
  [detail: string]: string | number | boolean;
}

export interface BtfJson {
  id: number;
  size: number;
  prog_ids: number[];
  map_ids: number[];
  kernel: boolean;
  name?: string;
}

/**
 * bpftool's loaded_at: load_time (ns since boot) to wall-clock seconds as
 * print_boot_time computes it, whole seconds of CLOCK_REALTIME minus whole
 * seconds of CLOCK_MONOTONIC plus whole seconds of load_time.
 */
function loadedAt(loadNs: bigint): number {
  const real = Math.floor(Date.now() / 1000);
  const mono = Number(hrtime.bigint() / 1_000_000_000n);
  return real - mono + Number(loadNs / 1_000_000_000n);
}

function withFd<T>(sys: Sys, kind: ObjKind, id: number, f: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fdById(sys, kind, id);
  } catch (e) {
    // freed between GET_NEXT_ID and GET_FD_BY_ID, as bpftool skips it
    if (e instanceof TsbpfError && e.errno === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return f(fd);
  } finally {
    sys.close(fd);
  }
}

export function progJson(sys: Sys, fd: number): ProgJson {
  const p = progInfo(sys, fd);
  const out: ProgJson = {
    id: p.id,
    type: String(p.type),
    name: p.name,
    tag: p.tag,
    gpl_compatible: p.gplCompatible,
    loaded_at: loadedAt(p.loadTime),
    uid: p.uid,
    bytes_xlated: p.bytesXlated,
    jited: p.bytesJited > 0,
  };
  if (p.bytesJited > 0) out.bytes_jited = p.bytesJited;
  if (p.bytesMemlock) out.bytes_memlock = p.bytesMemlock;
  if (p.mapIds.length) out.map_ids = p.mapIds;
  if (p.btfId) out.btf_id = p.btfId;
  return out;
}

export function mapJson(sys: Sys, fd: number): MapJson {
  const m = mapInfo(sys, fd);
  const out: MapJson = { id: m.id, type: String(m.type), name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, bytes_memlock: m.bytesMemlock, frozen: m.frozen ? 1 : 0 };
  if (m.btfId) out.btf_id = m.btfId;
  return out;
}

export function linkJson(sys: Sys, fd: number): LinkJson {
  const l = linkInfo(sys, fd);
  const out: LinkJson = { id: l.id, type: l.type, prog_id: l.progId };
  for (const [k, v] of Object.entries(l.details)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

/** A source of the kernel's objects, by kind. */
export class KernelListing {
  constructor(private readonly sys: Sys) {}
  private all<T>(kind: ObjKind, f: (fd: number) => T): T[] {
    const out: T[] = [];
    for (const id of ids(this.sys, kind)) {
      const v = withFd(this.sys, kind, id, f);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  async programs(): Promise<ProgJson[]> {
    return this.all('prog', (fd) => progJson(this.sys, fd));
  }
  async maps(): Promise<MapJson[]> {
    return this.all('map', (fd) => mapJson(this.sys, fd));
  }
  async links(): Promise<LinkJson[]> {
    return this.all('link', (fd) => linkJson(this.sys, fd));
  }
  /** BTF objects with the programs and maps that use each (bpftool builds the same tables). */
  async btfs(): Promise<BtfJson[]> {
    const progs = await this.programs();
    const maps = await this.maps();
    return this.all('btf', (fd) => {
      const b = btfInfo(this.sys, fd);
      const out: BtfJson = {
        id: b.id,
        size: b.size,
        prog_ids: progs.filter((p) => p.btf_id === b.id).map((p) => p.id).reverse(),
        map_ids: maps.filter((m) => m.btf_id === b.id).map((m) => m.id).reverse(),
        kernel: b.kernel,
      };
      if (b.name) out.name = b.name;
      return out;
    });
  }
  /** One object by id or by pin path. */
  one(kind: ObjKind, by: { id: number } | { pinned: string }): ProgJson | MapJson | LinkJson | BtfJson {
    const show = (fd: number): ProgJson | MapJson | LinkJson | BtfJson =>
      kind === 'prog' ? progJson(this.sys, fd) : kind === 'map' ? mapJson(this.sys, fd) : kind === 'link' ? linkJson(this.sys, fd) : { ...btfInfoJson(this.sys, fd) };
    if ('id' in by) {
      const fd = fdById(this.sys, kind, by.id);
      try {
        return show(fd);
      } finally {
        this.sys.close(fd);
      }
    }
    const fd = openPinned(this.sys, by.pinned);
    try {
      return show(fd);
    } finally {
      this.sys.close(fd);
    }
  }
}

function btfInfoJson(sys: Sys, fd: number): BtfJson {
  const b = btfInfo(sys, fd);
  return { id: b.id, size: b.size, prog_ids: [], map_ids: [], kernel: b.kernel, ...(b.name ? { name: b.name } : {}) };
}

/** The hook src/cli/listing.ts imports when the kernel backend is in the build. */
export async function kernelListing(): Promise<KernelListing> {
  return new KernelListing(await openSys());
}

/** bpftool's loaded_at in plain output: local time with the UTC offset. */
function timeStr(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number): string => String(Math.abs(n)).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60000);
  return `${local.toISOString().slice(0, 19)}${off < 0 ? '-' : '+'}${p(Math.trunc(off / 60))}${p(off % 60)}`;
}

/** show_prog_plain */
export function progPlain(p: ProgJson): string {
  let s = `${p.id}: ${p.type}  name ${p.name}  tag ${p.tag}${p.gpl_compatible ? '  gpl' : ''}\n`;
  s += `\tloaded_at ${timeStr(p.loaded_at)}  uid ${p.uid}\n`;
  s += `\txlated ${p.bytes_xlated}B  ${p.jited ? `jited ${p.bytes_jited ?? 0}B` : 'not jited'}`;
  if (p.bytes_memlock !== undefined) s += `  memlock ${p.bytes_memlock}B`;
  if (p.map_ids?.length) s += `  map_ids ${p.map_ids.join(',')}`;
  s += '\n';
  if (p.btf_id !== undefined) s += `\tbtf_id ${p.btf_id}\n`;
  return s;
}

/** show_map_plain */
export function mapPlain(m: MapJson): string {
  let s = `${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n`;
  s += `\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}  memlock ${m.bytes_memlock}B${m.frozen ? '  frozen' : ''}\n`;
  if (m.btf_id !== undefined) s += `\tbtf_id ${m.btf_id}\n`;
  return s;
}

/** show_link_plain: the header line, then the type's fields */
export function linkPlain(l: LinkJson): string {
  const { id, type, prog_id, ...rest } = l;
  let s = `${id}: ${type}  prog ${prog_id}`;
  const fields = Object.entries(rest).map(([k, v]) => `${k} ${v}`);
  if (fields.length) s += `\n\t${fields.join('  ')}`;
  return `${s}\n`;
}

/** show_btf_plain */
export function btfPlain(b: BtfJson): string {
  let s = `${b.id}: name ${b.name ? (b.kernel ? `[${b.name}]` : b.name) : '<anon>'}  size ${b.size}B`;
  if (b.prog_ids.length) s += `  prog_ids ${b.prog_ids.join(',')}`;
  if (b.map_ids.length) s += `  map_ids ${b.map_ids.join(',')}`;
  return `${s}\n`;
}
