/**
 * What every map-helper inliner starts with (inline.ts's array lookup, inline-hash.ts's hash
 * lookup): finding the map the call site passes in r1 and its layout at compile time.
 */
import type { HelperInliner, InlineSite } from './compile.js';

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
