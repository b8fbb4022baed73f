/** Shared helpers for the maps tests: specs, a small address space, program-side scratch buffers. */
import { AddressSpace } from '../src/memory/address-space.js';
import type { MapSpec, MapTypeName } from '../src/object/spec.js';
import { createMap, MapTable, type BpfMap, type MapContext } from '../src/maps/index.js';

export function spec(type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, flags = 0, extra: Partial<MapSpec> = {}): MapSpec {
  return { name: `t_${type}`, type, keySize, valueSize, maxEntries, flags, pinning: 'none', ...extra };
}

export function ctx(numCpus = 1, extra: Partial<MapContext> = {}): MapContext {
  return { space: new AddressSpace({ initialPages: 16 }), numCpus, table: new MapTable(), ...extra };
}

export function make<M = BpfMap<unknown>>(s: MapSpec, c: MapContext = ctx()): M {
  return createMap(s, c) as unknown as M;
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
export function u64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
  return b;
}
export function readU32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
}
export function readU64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

/** Put bytes in the map's address space (as a program's stack would hold them); returns the address. */
export function place(m: BpfMap<unknown>, bytes: Uint8Array): number {
  const a = m.space.alloc(Math.max(bytes.length, 8));
  m.space.write(a, bytes);
  return a;
}

export const errnoOf = (e: unknown): string | undefined => (e as { errno?: string }).errno;
