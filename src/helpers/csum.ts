/**
 * The Internet checksum arithmetic the skb helpers use (RFC 1071, RFC 1624),
 * reproducing the exact 32-bit values Linux computes on x86-64 and arm64 —
 * little-endian machines where a 16-bit checksum field is read from packet
 * memory in host order — so that csum_diff's return value, which programs can
 * see and store, is bit-identical to the kernel's.
 *
 * Representation: a __wsum is an unsigned 32-bit number, a __sum16 an
 * unsigned 16-bit one; both hold bytes in memory order read little-endian.
 */

/** csum_add (include/net/checksum.h): 32-bit add with end-around carry. */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return s > 0xffffffff ? s - 0xffffffff : s;
}

/** csum_sub: add the one's complement. */
export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_fold: fold a 32-bit sum to 16 bits and complement it. */
export function csumFold(sum: number): number {
  const s = (sum >>> 16) + (sum & 0xffff);
  const f = s > 0xffff ? s - 0xffff : s;
  return ~f & 0xffff;
}

/** csum_from32to16: fold to 16 bits with end-around carry, without complementing. */
export function csumFrom32to16(sum: number): number {
  const s = (sum >>> 16) + (sum & 0xffff);
  return s > 0xffff ? s - 0xffff : s;
}

/** csum16_add: 16-bit add with end-around carry. */
function csum16Add(a: number, b: number): number {
  const s = (a & 0xffff) + (b & 0xffff);
  return s > 0xffff ? s - 0xffff : s;
}

/**
 * csum_partial(buff, len, seed) as arch/x86/lib/csum-partial_64.c computes it:
 * a 64-bit end-around-carry sum of little-endian words (the tail zero-padded)
 * started from the seed, then folded to 32 bits by adding its halves with
 * end-around carry. Because 2^32 ≡ 1 (mod 2^32 - 1), that value equals the
 * plain sum of the little-endian 32-bit words and the seed reduced into
 * [1, 2^32 - 1] — and 0 only when every term is 0 — which is how it is
 * computed here, word size independent.
 */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  // Sum 32-bit little-endian words; reduce every 2^20 words to stay exact in a double.
  let total = seed >>> 0;
  let nonZero = total !== 0;
  const n = bytes.length;
  let i = 0;
  let acc = 0;
  let count = 0;
  for (; i + 4 <= n; i += 4) {
    const w = (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)) >>> 0;
    acc += w;
    if (++count === 1 << 20) {
      total = reduce(total + acc);
      acc = 0;
      count = 0;
    }
  }
  if (i < n) {
    let w = 0;
    for (let k = 0; i + k < n; k++) w += bytes[i + k]! * 2 ** (8 * k);
    acc += w;
  }
  const sum = total + acc;
  if (sum !== 0) nonZero = true;
  if (!nonZero) return 0;
  return reduce(sum);
}

/** Reduce a positive integer (< 2^53) into [1, 2^32 - 1], 0 staying 0. */
function reduce(s: number): number {
  if (s === 0) return 0;
  return ((s - 1) % 0xffffffff) + 1;
}

/** csum_replace_by_diff: fold a precomputed difference into a 16-bit checksum field. */
export function csumReplaceByDiff(sum16: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~sum16 >>> 0));
}

/** csum_replace4 (also inet_proto_csum_replace4 when ip_summed != CHECKSUM_PARTIAL). */
export function csumReplace4(sum16: number, from: number, to: number): number {
  const tmp = csumSub(~sum16 >>> 0, from >>> 0);
  return csumFold(csumAdd(tmp, to >>> 0));
}

/** csum_replace2, RFC 1624 eqn. 3 on 16-bit values. */
export function csumReplace2(sum16: number, from: number, to: number): number {
  return ~csum16Add(csum16Add(~sum16 & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
}

/** The 16-bit Internet checksum of `bytes` (what belongs in an IPv4 header's check field), in memory order. */
export function ipChecksum(bytes: Uint8Array): number {
  return csumFold(csumPartial(bytes, 0));
}
