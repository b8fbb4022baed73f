/**
 * The running kernel's objects as `bpftool prog|map|link|btf show` lists
 * them (bpftool's prog.c, map.c, link.c, btf.c show_*_json): the Linux
 * backend's bpf_*_info (src/kernel/info.ts) put into the listing types of
 * listing.ts, which also print them. Imported on demand (listing.ts's
 * `kernelListing()`), so commands that never list the kernel never load the
 * backend.
 */
import { hrtime } from 'node:process';
import { TsbpfError } from '../errors.js';
import { openSys, type Sys } from '../kernel/ffi.js';
import { btfInfo, fdById, ids, linkInfo, mapInfo, progInfo, type ObjKind } from '../kernel/info.js';
import { openRef } from '../kernel/objects.js';
import type { BtfInfo, LinkInfo, MapInfo, ProgInfo } from './listing.js';

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

function progListed(sys: Sys, fd: number): ProgInfo {
  const p = progInfo(sys, fd);
  const out: ProgInfo = {
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

function mapListed(sys: Sys, fd: number): MapInfo {
  const m = mapInfo(sys, fd);
  const out: MapInfo = { id: m.id, type: String(m.type), name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize, max_entries: m.maxEntries, bytes_memlock: m.bytesMemlock, frozen: m.frozen ? 1 : 0 };
  if (m.btfId) out.btf_id = m.btfId;
  return out;
}

function linkListed(sys: Sys, fd: number): LinkInfo {
  const l = linkInfo(sys, fd);
  const out: LinkInfo = { id: l.id, type: l.type, prog_id: l.progId };
  for (const [k, v] of Object.entries(l.details)) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

/** A source of the kernel's objects, by kind. */
class KernelListing {
  constructor(private readonly sys: Sys) {}
  private all<T>(kind: ObjKind, f: (fd: number) => T): T[] {
    const out: T[] = [];
    for (const id of ids(this.sys, kind)) {
      const v = withFd(this.sys, kind, id, f);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
  async programs(): Promise<ProgInfo[]> {
    return this.all('prog', (fd) => progListed(this.sys, fd));
  }
  async maps(): Promise<MapInfo[]> {
    return this.all('map', (fd) => mapListed(this.sys, fd));
  }
  async links(): Promise<LinkInfo[]> {
    return this.all('link', (fd) => linkListed(this.sys, fd));
  }
  /** BTF objects with the programs and maps that use each (bpftool builds the same tables). */
  async btfs(): Promise<BtfInfo[]> {
    const progs = await this.programs();
    const maps = await this.maps();
    return this.all('btf', (fd) => {
      const b = btfListed(this.sys, fd);
      b.prog_ids = progs.filter((p) => p.btf_id === b.id).map((p) => p.id).reverse();
      b.map_ids = maps.filter((m) => m.btf_id === b.id).map((m) => m.id).reverse();
      return b;
    });
  }
  /** One object by id or by pin path (a BTF object alone: no program or map tables). */
  one(kind: ObjKind, by: { id: number } | { pinned: string }): ProgInfo | MapInfo | LinkInfo | BtfInfo {
    const fd = openRef(this.sys, kind, by);
    try {
      return { prog: progListed, map: mapListed, link: linkListed, btf: btfListed }[kind](this.sys, fd);
    } finally {
      this.sys.close(fd);
    }
  }
}

function btfListed(sys: Sys, fd: number): BtfInfo {
  const b = btfInfo(sys, fd);
  return { id: b.id, size: b.size, prog_ids: [], map_ids: [], kernel: b.kernel, ...(b.name ? { name: b.name } : {}) };
}

/** The kernel's objects, through the process's bpf(2) (ENOSYS without Linux or koffi). */
export async function kernelListing(): Promise<KernelListing> {
  return new KernelListing(await openSys());
}
