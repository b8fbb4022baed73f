/**
 * Maps printed the way bpftrace prints them at exit: log2 histograms with
 * `[lo, hi)` buckets and bars of `@` 52 columns wide, and keyed maps as
 * `@name[key]: value` lines sorted by value (ascending, as bpftrace does).
 */
import type { BpfMap } from '../maps/map.js';

const BAR_WIDTH = 52;
const SUFFIXES = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** bpftrace's power-of-1024 label of 2^k (1, 2, ... 512, 1K, 2K, ...). */
function pow2Label(k: number): string {
  const unit = Math.min(Math.floor(k / 10), SUFFIXES.length - 1);
  return `${2 ** (k - unit * 10)}${SUFFIXES[unit]}`;
}

/** The label of hist() slot i: slot 0 holds negative values, 1 holds 0, 2 holds 1, slot i>=3 holds [2^(i-2), 2^(i-1)). */
export function log2Label(i: number): string {
  if (i === 0) return '(..., 0)';
  if (i === 1) return '[0]';
  if (i === 2) return '[1]';
  return `[${pow2Label(i - 2)}, ${pow2Label(i - 1)})`;
}

/** bpftrace's log2 slot of a value (hist()). */
export function log2Slot(v: number | bigint): number {
  const n = BigInt(v);
  if (n < 0n) return 0;
  if (n === 0n) return 1;
  return 2 + n.toString(2).length - 1;
}

/** Print hist() slot counts (index = slot) as bpftrace does: only the span from the first to the last non-empty slot. */
export function formatLog2Hist(name: string, slots: readonly bigint[]): string {
  let lo = slots.findIndex((c) => c > 0n);
  if (lo < 0) return `@${name}:\n\n`;
  let hi = slots.length - 1;
  while (hi > lo && slots[hi] === 0n) hi--;
  const max = slots.reduce((m, c) => (c > m ? c : m), 0n);
  const lines = [`@${name}:`];
  for (let i = lo; i <= hi; i++) {
    const c = slots[i] ?? 0n;
    const bar = '@'.repeat(Number((c * BigInt(BAR_WIDTH)) / max)).padEnd(BAR_WIDTH, ' ');
    lines.push(`${log2Label(i).padEnd(16)}${String(c).padStart(8)} |${bar}|`);
  }
  return lines.join('\n') + '\n\n';
}

/** Read an array map of u64 counters as hist() slots. */
export function histSlots(map: BpfMap<unknown>): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < map.maxEntries; i++) {
    const v = map.get(i) as Uint8Array | undefined;
    out.push(v ? u64(v) : 0n);
  }
  return out;
}

function u64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);
}

/** A key as bpftrace shows it: a C string for char arrays, else the number. */
function formatKey(k: Uint8Array): string {
  const nul = k.indexOf(0);
  const printable = (nul < 0 ? k : k.subarray(0, nul)).every((c) => c >= 0x20 && c < 0x7f);
  if (k.length > 8 || (nul > 0 && printable)) return new TextDecoder().decode(nul < 0 ? k : k.subarray(0, nul));
  let v = 0n;
  for (let i = k.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(k[i]!);
  return String(v);
}

/** `@name[key]: value` lines of a hash map with u64 (or u32) values, ascending by value. */
export function formatCounts(name: string, map: BpfMap<unknown>): string {
  const rows: Array<[string, bigint]> = [];
  for (const [k, v] of map.entries()) {
    const b = v as Uint8Array;
    rows.push([formatKey(k), b.length >= 8 ? u64(b) : BigInt(new DataView(b.buffer, b.byteOffset).getUint32(0, true))]);
  }
  rows.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : 1));
  return rows.map(([k, v]) => `@${name}[${k}]: ${v}\n`).join('') + '\n';
}
