/**
 * `prog show`, `map show`, `link show`: what a listing is, and bpftool's
 * way of printing one.
 *
 * bpftool lists the objects the kernel holds. tsbpf's own programs live in
 * the process that loads them and are not pinned, so between two commands
 * there is nothing to list; `tsbpf prog show FILE` shows an object's
 * programs as loading makes them. The kernel's objects come from the Linux
 * backend: a module `src/kernel/listing.ts` exporting
 * `kernelListing(): Promise<Listing>` is picked up here when it is in the
 * build, and `tsbpf prog show` with no FILE prints what it returns.
 */
import { createHash } from 'node:crypto';
import { TsbpfError } from '../errors.js';
import { encode, type Insn } from '../isa/insn.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../isa/opcodes.js';

/** One program, with bpftool's JSON field names (bpf_prog_info as bpftool prints it). */
export interface ProgInfo {
  id: number;
  type: string;
  name: string;
  tag: string;
  gpl_compatible: boolean;
  /** seconds since the epoch */
  loaded_at: number;
  uid: number;
  bytes_xlated: number;
  jited: boolean;
  bytes_jited?: number;
  bytes_memlock?: number;
  map_ids?: number[];
  btf_id?: number;
  /** pinned paths (bpftool -f) */
  pinned?: string[];
}

/** One map, with bpftool's JSON field names (bpf_map_info as `bpftool map show -j` prints it). */
export interface MapInfo {
  id: number;
  type: string;
  name: string;
  flags: number;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
  bytes_memlock?: number;
  frozen?: number;
  btf_id?: number;
  pinned?: string[];
}

/** One link (bpf_link_info as `bpftool link show -j` prints its common fields). */
export interface LinkInfo {
  id: number;
  type: string;
  prog_id: number;
  /** the type-specific fields (attach_type, tp_name, ifindex, ...), printed as `key value` */
  [field: string]: unknown;
}

/** A source of objects to list: the kernel's (src/kernel), or whatever else can enumerate them. */
export interface Listing {
  programs(): Promise<ProgInfo[]>;
  maps?(): Promise<MapInfo[]>;
  links?(): Promise<LinkInfo[]>;
}

/**
 * The kernel's program tag (bpf_prog_calc_tag): the first 8 bytes of the
 * SHA-256 (Linux 6.18; SHA-1 before) of the instructions as loaded, with the
 * immediates of map-referencing lddw pairs zeroed (they hold fds).
 */
export function progTag(insns: readonly Insn[]): string {
  const copy = insns.map((i) => ({ ...i }));
  let inLddw = false;
  for (const i of copy) {
    if (!inLddw && i.code === 0x18 && (i.src === BPF_PSEUDO_MAP_FD || i.src === BPF_PSEUDO_MAP_VALUE)) {
      inLddw = true;
      i.imm = 0;
    } else if (inLddw && i.code === 0 && i.dst === 0 && i.src === 0 && i.off === 0) {
      inLddw = false;
      i.imm = 0;
    } else inLddw = false;
  }
  return createHash('sha256').update(encode(copy)).digest('hex').slice(0, 16);
}

/** bpftool's loaded_at: local time with its UTC offset, `2026-12-06T12:23:35+0000`. */
function timeStr(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');
  const local = new Date(d.getTime() + off * 60000);
  return `${local.toISOString().slice(0, 19)}${off < 0 ? '-' : '+'}${p(Math.trunc(off / 60))}${p(off % 60)}`;
}

/** show_prog_plain's layout. */
export function progPlain(p: ProgInfo): string {
  let s = `${p.id}: ${p.type}  name ${p.name}  tag ${p.tag}${p.gpl_compatible ? '  gpl' : ''}\n`;
  s += `\tloaded_at ${timeStr(p.loaded_at)}  uid ${p.uid}\n`;
  s += `\txlated ${p.bytes_xlated}B  ${p.jited ? `jited ${p.bytes_jited ?? 0}B` : 'not jited'}`;
  if (p.bytes_memlock !== undefined) s += `  memlock ${p.bytes_memlock}B`;
  if (p.map_ids?.length) s += `  map_ids ${p.map_ids.join(',')}`;
  s += '\n';
  if (p.btf_id !== undefined) s += `\tbtf_id ${p.btf_id}\n`;
  for (const path of p.pinned ?? []) s += `\tpinned ${path}\n`;
  return s;
}

/** show_map_plain's layout. */
export function mapPlain(m: MapInfo): string {
  let s = `${m.id}: ${m.type}  name ${m.name}  flags 0x${m.flags.toString(16)}\n`;
  s += `\tkey ${m.bytes_key}B  value ${m.bytes_value}B  max_entries ${m.max_entries}`;
  if (m.bytes_memlock !== undefined) s += `  memlock ${m.bytes_memlock}B`;
  s += m.frozen ? '  frozen\n' : '\n';
  if (m.btf_id !== undefined) s += `\tbtf_id ${m.btf_id}\n`;
  for (const path of m.pinned ?? []) s += `\tpinned ${path}\n`;
  return s;
}

/** show_link_plain's layout: `id: type  prog N`, then the type's fields. */
export function linkPlain(l: LinkInfo): string {
  const rest = Object.entries(l).filter(([k]) => k !== 'id' && k !== 'type' && k !== 'prog_id');
  return `${l.id}: ${l.type}  prog ${l.prog_id}\n${rest.length ? `\t${rest.map(([k, v]) => `${k} ${String(v)}`).join('  ')}\n` : ''}`;
}

/** The kernel's listing when the Linux backend is in the build. */
export async function kernelListing(): Promise<Listing | undefined> {
  let mod: { kernelListing?: () => Promise<Listing> };
  try {
    mod = (await import(new URL('../kernel/listing.js', import.meta.url).href)) as typeof mod;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
  return mod.kernelListing ? await mod.kernelListing() : undefined;
}

/** Why there is nothing to list without a FILE, when the kernel's listing is not available. */
export function noListing(what: 'prog' | 'map' | 'link'): TsbpfError {
  const plural = { prog: 'programs', map: 'maps', link: 'links' }[what];
  const local = what === 'prog' ? `'tsbpf prog show FILE [PROG]' shows the programs of an object file as they load` : what === 'map' ? `'tsbpf map show pinned FILE' shows a pinned map` : 'links exist only while the process that attached them runs';
  return new TsbpfError(
    'EOPNOTSUPP',
    `tsbpf keeps no ${plural} between commands (they live in the process that loads them${what === 'prog' ? ', and tsbpf does not pin programs' : ''}); ${local}; listing the kernel's ${plural} needs tsbpf's Linux backend, which is not in this build`,
  );
}
