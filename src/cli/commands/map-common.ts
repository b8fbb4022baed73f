/**
 * What the `tsbpf map` commands share: opening the map a command names
 * (`pinned PATH`: a tsbpf pin file in the maps layer's format,
 * src/maps/pin.ts, or a kernel map when PATH is in a bpffs; `id N`: a
 * kernel map), bpftool's byte grammar (`key 0x01 2 03` or `key hex 01 02
 * 03`), and bpftool's output formats, formatted by BTF (bpftool's
 * btf_dumper) when the pin keeps the map's BTF or the kernel map has one.
 */
import { TsbpfError, ERRNO_VALUES, strerror as errnoText } from '../../errors.js';
import { CliUsageError } from '../args.js';
import { AddressSpace } from '../../memory/address-space.js';
import type { BpfMap } from '../../maps/map.js';
import type { MapApi } from '../../runtime/api.js';
import { isBpffs } from './kernel-show.js';
import type { Btf } from '../../object/btf/btf.js';
import { formatJson, formatValue, type Formatted } from '../../object/btf/codec.js';
import { openPinnedMap, pinMap, pinnedBtf, readPin } from '../../maps/pin.js';
import { fileError } from '../../bounded-read.js';

/** A map a command works on, of either backend. */
export interface OpenedMap {
  map: MapApi<unknown>;
  /** the BTF of its key and value types, when the pin keeps it or the kernel has it */
  btf?: Btf;
  /** write the (modified) map back to its file (a kernel map is changed in place) */
  save(): void;
  close(): void;
}

/** A tsbpf pin file, opened. */
export interface PinnedMap extends OpenedMap {
  map: BpfMap<unknown>;
}

/** A map context of its own for each command: one small address space. */
export const mapContext = (): { space: AddressSpace } => ({ space: new AddressSpace({ initialPages: 16 }) });

/** Pin `map` (with `btf`) at `path`; a failure names the path and the system's errno. */
export function savePin(map: BpfMap<unknown>, path: string, opts: { btf?: Btf; exclusive?: boolean } = {}): void {
  try {
    pinMap(map, path, opts);
  } catch (e) {
    throw fileError(path, 'write', e);
  }
}

/** Open the pin at `path`, with its BTF. */
export function openPinPath(path: string): PinnedMap {
  const btf = pinnedBtf(path, readPin(path).header);
  const map = openPinnedMap(path, mapContext());
  return { map, ...(btf ? { btf } : {}), save: () => savePin(map, path, btf ? { btf } : {}), close: () => map.close() };
}

/**
 * Open the map named at the front of `args` (`pinned PATH` or `id N`, as
 * bpftool's MAP); returns it and the remaining words. `id N` and a PATH in
 * a bpffs are the kernel's maps (the Linux backend, loaded only then).
 */
export async function openMapArg(args: string[]): Promise<[OpenedMap, string[]]> {
  const [how, what] = args;
  if (how === 'id' && what !== undefined && /^\d+$/.test(what)) return [await openKernelMap({ id: Number(what) }), args.slice(2)];
  if (how !== 'pinned' || !what) throw new CliUsageError("expected 'pinned PATH' or 'id N'");
  if (await isBpffs(args)) return [await openKernelMap({ pinned: what }), args.slice(2)];
  return [openPinPath(what), args.slice(2)];
}

/** A kernel map, with its BTF fetched from the kernel when it has one (the entries print by type, as bpftool's). */
async function openKernelMap(ref: { id: number } | { pinned: string }): Promise<OpenedMap> {
  const { KernelRuntime } = await import('../../kernel/index.js');
  const rt = new KernelRuntime();
  const map = await rt.openMap(ref);
  try {
    const btfId = map.spec.btfValueTypeId ? map.info().btfId : 0;
    const btf = btfId ? await rt.btf(btfId) : undefined;
    return { map, ...(btf ? { btf } : {}), save: () => undefined, close: () => map.close() };
  } catch (e) {
    map.close();
    throw e;
  }
}

/**
 * bpftool's parse_bytes: after `key`/`value`, either `hex` and then one
 * hex byte per word, or one byte per word in C notation (0x.., 0.., decimal).
 * Stops at the first word that is not a byte, or after `size` bytes.
 */
export function parseBytes(words: string[], start: number, size: number, what: string): [Uint8Array, number] {
  let i = start;
  let hex = false;
  if (words[i] === 'hex') {
    hex = true;
    i++;
  }
  const out: number[] = [];
  while (i < words.length && out.length < size) {
    const w = words[i]!;
    let v: number;
    if (hex) v = /^[0-9a-fA-F]{1,2}$/.test(w) ? parseInt(w, 16) : NaN;
    else if (/^0[xX][0-9a-fA-F]+$/.test(w)) v = parseInt(w.slice(2), 16);
    else if (/^0[0-7]+$/.test(w)) v = parseInt(w, 8);
    else if (/^[0-9]+$/.test(w)) v = parseInt(w, 10);
    else break;
    if (!(v >= 0 && v <= 255)) throw new CliUsageError(`error parsing byte: ${w}`);
    out.push(v);
    i++;
  }
  if (out.length !== size) throw new TsbpfError('EINVAL', `${what} expected ${size} bytes got ${out.length}`);
  return [Uint8Array.from(out), i];
}

/** bpftool's fprint_hex: bytes in hex, one space apart, two after every 8th byte, a new line after every 16th. */
export function hex(b: Uint8Array): string {
  let s = '';
  b.forEach((x, i) => {
    s += (i === 0 ? '' : i % 16 === 0 ? '\n' : i % 8 === 0 ? '  ' : ' ') + x.toString(16).padStart(2, '0');
  });
  return s;
}
const jsonBytes = (b: Uint8Array): string[] => Array.from(b, (x) => `0x${x.toString(16).padStart(2, '0')}`);

/**
 * One entry the way `bpftool map dump` prints it (plain; bpftool's
 * print_entry_plain): key and value on one line when they fit in 24 bytes
 * and neither is longer than 16, the names on lines of their own when one
 * is; per-CPU maps a `value (CPU NN):` line per possible CPU; a map of maps
 * its inner map's id.
 */
export function formatEntry(map: { type: string; keySize: number; valueSize: number }, key: Uint8Array, value: unknown): string {
  const breakNames = map.keySize > 16 || map.valueSize > 16;
  if (Array.isArray(value)) {
    let s = map.keySize ? `key:\n${hex(key)}\n` : '';
    (value as Uint8Array[]).forEach((v, cpu) => {
      s += `value (CPU ${String(cpu).padStart(2, '0')}):${map.valueSize > 16 ? '\n' : ' '}${hex(v)}\n`;
    });
    return s;
  }
  const v = value as Uint8Array;
  const oneLine = map.keySize + map.valueSize <= 24 && !breakNames;
  const sep = breakNames ? '\n' : ' ';
  let s = map.keySize ? `key:${sep}${hex(key)}${oneLine ? '  ' : '\n'}` : '';
  if (map.valueSize) {
    if (map.type === 'array_of_maps' || map.type === 'hash_of_maps') s += `inner_map_id:${sep}${new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true)} `;
    else s += `value:${sep}${hex(v)}`;
  }
  return `${s}\n`;
}

export function jsonEntry(key: Uint8Array, value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return { key: jsonBytes(key), values: (value as Uint8Array[]).map((v, cpu) => ({ cpu, value: jsonBytes(v) })) };
  return { key: jsonBytes(key), value: jsonBytes(value as Uint8Array) };
}

/** bpftool exits with -errno (as a byte) on a failed map operation. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof TsbpfError) return (256 - (ERRNO_VALUES[e.errno] ?? 1)) & 0xff;
  return 1;
}

export function errorOut(json: boolean, msg: string): void {
  if (json) process.stdout.write(JSON.stringify({ error: msg }) + '\n');
  else process.stderr.write(`Error: ${msg}\n`);
}

export function strerror(e: unknown): string {
  if (e instanceof TsbpfError) return errnoText(e.errno) === e.errno ? e.message : errnoText(e.errno);
  return (e as Error).message;
}

/**
 * An entry formatted by BTF as bpftool's btf_dumper shows it: `{key, value}`
 * or, per-CPU, `{key, values: [{cpu, value}]}`; entries without a key type
 * (global data) show only the value.
 */
export function formattedEntry(map: MapApi<unknown>, btf: Btf, key: Uint8Array, value: unknown): { [k: string]: Formatted } {
  const o: { [k: string]: Formatted } = {};
  if (map.spec.btfKeyTypeId) o.key = formatValue(btf, map.spec.btfKeyTypeId, key);
  const vt = map.spec.btfValueTypeId!;
  if (Array.isArray(value)) o.values = (value as Uint8Array[]).map((v, cpu) => ({ cpu, value: formatValue(btf, vt, v) }));
  else o.value = formatValue(btf, vt, value as Uint8Array);
  return o;
}

/** bpftool's -j entry with BTF: the bytes, then `"formatted"`. */
export function jsonEntryWithBtf(map: MapApi<unknown>, btf: Btf, key: Uint8Array, value: unknown): string {
  const raw = JSON.stringify(jsonEntry(key, value));
  return `${raw.slice(0, -1)},"formatted":${formatJson(formattedEntry(map, btf, key, value), { json: true, pretty: false })}}`;
}

export function isJson(args: string[]): [boolean, string[]] {
  const rest = args.filter((a) => a !== '-j' && a !== '--json' && a !== '-p' && a !== '--pretty');
  return [rest.length !== args.length, rest];
}

/**
 * A command that changes a map (`update`, `delete`): open it, let `change`
 * parse the rest of the words and apply it, write a pin file back.
 * Errors print as bpftool's do (`<verb> failed: ...`); usage errors go up.
 */
export async function changeMap(argv: string[], verb: string, change: (map: OpenedMap['map'], rest: string[]) => void): Promise<number> {
  const [json, args] = isJson(argv);
  const [pm, rest] = await openMapArg(args);
  try {
    change(pm.map, rest);
    pm.save();
    if (json) process.stdout.write('null\n');
    return 0;
  } catch (e) {
    if (e instanceof CliUsageError) throw e;
    errorOut(json, e instanceof Error && /expected \d+ bytes/.test(e.message) ? e.message : `${verb} failed: ${strerror(e)}`);
    return exitCodeFor(e);
  } finally {
    pm.close();
  }
}
