/**
 * The checksum arithmetic behind l3/l4_csum_replace and csum_diff
 * (src/helpers/csum.ts): RFC 1071's worked example, incremental updates
 * (RFC 1624) against full recomputation, and the 32-bit csum_partial value
 * against a straightforward one's-complement reference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csumAdd, csumFold, csumFrom32to16, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub, ipChecksum,
} from '../src/helpers/csum.js';
import { rng } from './support/random.js';

/** One's-complement 16-bit sum of big-endian words (the RFC 1071 definition), uncomplemented. */
function ref16(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const swap16 = (v: number): number => ((v & 0xff) << 8) | (v >> 8);

test('RFC 1071 4.1 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
  const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  // csum_fold returns the complement in memory (little-endian) order.
  assert.equal(swap16(~csumFold(csumPartial(b, 0)) & 0xffff), 0xddf2);
  assert.equal(swap16(ipChecksum(b)), ~0xddf2 & 0xffff);
});

test('an IPv4 header with its checksum in place sums to zero', () => {
  const h = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
  assert.equal(ipChecksum(h), 0);
  h[10] = 0;
  h[11] = 0;
  assert.equal(swap16(ipChecksum(h)), 0xb861);
});

test('csum_partial: congruent to the RFC sum, in [1, 2^32-1] unless all zero', () => {
  const r = rng(1);
  for (let n = 0; n < 200; n++) {
    const len = Math.floor(r() * 70);
    const b = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
    const seed = r() < 0.3 ? 0 : Math.floor(r() * 2 ** 32);
    const p = csumPartial(b, seed);
    assert.ok(p >= 0 && p <= 0xffffffff);
    // Little-endian words: fold to 16 bits and compare with the big-endian reference, byte-swapped.
    const withSeed = new Uint8Array(len + (len & 1) + 4);
    withSeed.set(b);
    const s = seed >>> 0;
    withSeed.set([s & 0xff, (s >> 8) & 0xff, (s >> 16) & 0xff, s >>> 24], len + (len & 1));
    assert.equal(csumFrom32to16(p), swap16(ref16(withSeed)) === 0 && p !== 0 ? 0xffff : swap16(ref16(withSeed)));
  }
  assert.equal(csumPartial(new Uint8Array(16), 0), 0);
  assert.equal(csumPartial(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0), 0xffffffff);
  assert.equal(csumPartial(Uint8Array.of(1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff), 0), 1);
});

test('csum_add/csum_sub carry around', () => {
  assert.equal(csumAdd(0xffffffff, 1), 1);
  assert.equal(csumAdd(0, 0), 0);
  assert.equal(csumSub(5, 5), 0xffffffff);
  assert.equal(csumFold(0), 0xffff);
  assert.equal(csumFold(0xffff), 0);
  assert.equal(csumFold(0x1fffe), 0);
});

test('incremental replacement (RFC 1624) equals recomputing the header checksum', () => {
  const r = rng(7);
  for (let n = 0; n < 300; n++) {
    const h = Uint8Array.from({ length: 20 }, () => Math.floor(r() * 256));
    h[10] = 0;
    h[11] = 0;
    const c = ipChecksum(h);
    h[10] = c & 0xff;
    h[11] = c >> 8;
    const dv = new DataView(h.buffer);
    // 16-bit field (TTL/protocol), 32-bit field (source address), and a precomputed diff.
    const which = n % 3;
    const sum = dv.getUint16(10, true);
    let next: number;
    if (which === 0) {
      const from = dv.getUint16(8, true);
      const to = Math.floor(r() * 0x10000);
      dv.setUint16(8, to, true);
      next = csumReplace2(sum, from, to);
    } else if (which === 1) {
      const from = dv.getUint32(12, true);
      const to = Math.floor(r() * 2 ** 32);
      dv.setUint32(12, to, true);
      next = csumReplace4(sum, from, to);
    } else {
      const from = h.slice(16, 20);
      const to = Uint8Array.from({ length: 4 }, () => Math.floor(r() * 256));
      h.set(to, 16);
      const nf = Uint8Array.from(from, (x) => ~x & 0xff);
      const diff = csumPartial(Uint8Array.from([...nf, ...to]), 0);
      next = csumReplaceByDiff(sum, diff);
    }
    h[10] = 0;
    h[11] = 0;
    const full = ipChecksum(h);
    // 0 and 0xffff are the same one's-complement number; incremental updates may produce either.
    assert.ok(next === full || (next ^ full) === 0xffff && (next === 0 || full === 0), `case ${n}: ${next.toString(16)} vs ${full.toString(16)}`);
  }
});
