/**
 * `prog show`, `map show`, `link show`, `btf show`: what a listing is, with
 * bpftool's JSON field names, and bpftool's plain layouts (bpftool's
 * prog.c, map.c, link.c, btf.c show_*_plain). Both sources fill these
 * types: the object a FILE loads as (prog-show.ts), and the running
 * kernel's objects (kernel-listing.ts, through the Linux backend), so there
 * is one formatter per kind.
 */
import { createHash } from 'node:crypto';
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

/** One BTF object (`bpftool btf show -j`): the programs and maps that use it. */
export interface BtfInfo {
  id: number;
  size: number;
  prog_ids: number[];
  map_ids: number[];
  kernel: boolean;
  name?: string;
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

/** bpftool's loaded_at in plain output: local time with its UTC offset, `2026-12-06T12:23:35+0000`. */
function timeStr(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const p = (n: number): string => String(Math.abs(n)).padStart(2, '0');
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

/**
 * show_link_plain's layout: `id: type  prog N  `, then the type's fields on a
 * tab-indented line, each followed by two spaces as bpftool prints them
 * (a raw tracepoint's name as `tp 'NAME'`).
 */
export function linkPlain(l: LinkInfo): string {
  const rest = Object.entries(l).filter(([k]) => k !== 'id' && k !== 'type' && k !== 'prog_id');
  const field = ([k, v]: [string, unknown]): string => (k === 'tp_name' ? `tp '${String(v)}'  ` : `${k} ${String(v)}  `);
  return `${l.id}: ${l.type}  prog ${l.prog_id}  ${rest.length ? `\n\t${rest.map(field).join('')}` : ''}\n`;
}

/** show_btf_plain: kernel BTF names in brackets. */
export function btfPlain(b: BtfInfo): string {
  let s = `${b.id}: name ${b.name ? (b.kernel ? `[${b.name}]` : b.name) : '<anon>'}  size ${b.size}B`;
  if (b.prog_ids.length) s += `  prog_ids ${b.prog_ids.join(',')}`;
  if (b.map_ids.length) s += `  map_ids ${b.map_ids.join(',')}`;
  return `${s}\n`;
}
