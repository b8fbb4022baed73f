/**
 * What every map-helper inliner starts with (inline.ts's array lookup, inline-hash.ts's hash
 * lookup): finding the map the call site passes in r1 and its layout at compile time.
 */
import type { HelperInliner, InlineSite } from './compile.js';
import { NULL_GUARD, type AddressSpace } from '../../memory/address-space.js';
import { Op } from './wasm.js';

/**
 * An array map's descriptor fields as the JIT reads them at compile time
 * (maps/descriptor.ts: u32 type at +0, max_entries at +12, the values'
 * address at +24 and the element size at +28), when `mapAddr` is a map
 * descriptor of type `type` with values; undefined otherwise. Blocks never
 * move, so what is read stays true while the map lives.
 */
export function arrayDescriptor(space: AddressSpace, mapAddr: number, type: number): { values: number; elem: number; maxEntries: number } | undefined {
  if (mapAddr < NULL_GUARD || mapAddr + 32 > space.size || mapAddr % 4 !== 0) return undefined;
  if (space.regionOf(mapAddr, 32)?.kind !== 'map') return undefined;
  if (space.readU32(mapAddr) !== type) return undefined;
  const values = space.readU32(mapAddr + 24);
  const elem = space.readU32(mapAddr + 28);
  const maxEntries = space.readU32(mapAddr + 12);
  if (values === 0 || elem === 0 || maxEntries === 0 || maxEntries > 0x7fffffff) return undefined;
  return { values, elem, maxEntries };
}

/**
 * An inliner for a map helper whose map (r1) is known at the call: InsnAux.mapAddr from the
 * verifier, or an lddw of the map pointer earlier in the block. `layoutOf` reads the map's
 * layout from its descriptor, or gives undefined for maps `emit` does not handle (the site
 * then calls the helper).
 */
export function knownMapInliner<L>(layoutOf: (mapAddr: number) => L | undefined, emit: (s: InlineSite, l: L) => void): HelperInliner {
  return (s: InlineSite): boolean => {
    const mapAddr = s.aux?.mapAddr ?? s.constReg(1);
    if (mapAddr === undefined) return false;
    const l = layoutOf(mapAddr);
    if (l === undefined) return false;
    emit(s, l);
    return true;
  };
}

/**
 * The array lookups' shape (array_map_gen_lookup, percpu_array_map_gen_lookup): r0 = key <
 * maxEntries ? address : NULL, with the key the u32 at r2, kept in `s.tmp32` for `address`,
 * which leaves the element's address as an i64.
 */
export function emitArrayIndexLookup(s: InlineSite, maxEntries: number, address: () => void): void {
  const c = s.body;
  c.localGet(s.reg(2));
  c.op(Op.i32_wrap_i64);
  c.mem(Op.i32_load, 2, 0);
  c.localTee(s.tmp32);
  c.i32Const(maxEntries | 0);
  c.op(Op.i32_lt_u);
  c.u8(Op.if);
  c.u8(0x7e); // (result i64)
  address();
  c.op(Op.else);
  c.i64Const32(0);
  c.op(Op.end);
  c.localSet(s.reg(0));
}
