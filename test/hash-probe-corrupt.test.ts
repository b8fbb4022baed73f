/**
 * The WebAssembly hash probe (helpers/hash-probe.ts, hash-links.ts) on a
 * table the host corrupted: random bucket heads, chain links with cycles,
 * LRU links, ends and reference bits, free-stack entries and top, a
 * per-CPU table's CPU word (hash-layout.ts H.CPU). Whatever the block holds,
 * lookups, updates (with LRU eviction) and deletes return, and write nothing
 * outside the table's state block and element pool: every other byte of the
 * address space stays as it was. (The header's constants are the table's
 * own and not corrupted here: hash-links.ts says why they are trusted.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../src/runtime/runtime.js';
import type { MapSpec } from '../src/object/spec.js';
import { BPF_F_ZERO_SEED } from '../src/maps/flags.js';
import { hashProbe, type ProbeOp } from '../src/helpers/hash-probe.js';
import { H, HDR_WORDS, stateWords } from '../src/memory/hash-layout.js';
import type { HashMap } from '../src/maps/hash.js';
import { xorshift32 } from './support/random.js';

for (const type of ['hash', 'lru_hash', 'percpu_hash', 'lru_percpu_hash'] as const) {
  test(`${type}: a corrupted table neither holds the probe in a loop nor lets it write outside the table`, () => {
    const rt = new Runtime({ engine: 'jit', numCpus: 3 });
    const maxEntries = 16;
    const spec: MapSpec = { name: 'h', type, keySize: 8, valueSize: 8, maxEntries, flags: BPF_F_ZERO_SEED, pinning: 'none' };
    const m = rt.createMap(spec) as unknown as HashMap & { addr: number };
    const space = rt.space;
    const st = m.stateAddr;
    const hdr = (w: number): number => space.readU32(st + w * 4) | 0;
    const nBuckets = hdr(H.MASK) + 1;
    const stateEnd = st + stateWords(nBuckets, maxEntries, type.startsWith('lru')) * 4;
    const pool = hdr(H.POOL) >>> 0;
    const poolEnd = pool + maxEntries * (hdr(H.SLOT_SIZE) >>> 0);
    const key = space.alloc(8);
    const val = space.alloc(8);
    const fb = { n: 0 };
    const ops = Object.fromEntries(
      (['lookup', 'update', 'delete'] as ProbeOp[]).map((op) => [op, hashProbe(op, space.memory, false, () => (fb.n++, 0))]),
    ) as Record<ProbeOp, (pc: number, ...a: number[]) => number>;
    const r = xorshift32(type.length * 31);
    // the changing words: LRU ends, count and free top in the header; then every array after it
    const changing = [H.COUNT, H.FREE_TOP, H.LRU_HEAD, H.LRU_TAIL, H.CPU].map((w) => st + w * 4);
    for (let a = st + HDR_WORDS * 4; a < stateEnd; a += 4) changing.push(a);
    const junk = (): number => [r(), -1, r() % (2 * maxEntries), r() % maxEntries, maxEntries, 0x7fffffff][r() % 6]! | 0;
    // the whole space with the table and the test's key and value scratch blanked out
    const outside = (): Uint8Array => {
      const out = space.u8.slice();
      for (const [lo, hi] of [[st, stateEnd], [pool, poolEnd], [key, key + 8], [val, val + 8]] as const) out.fill(0, lo, hi);
      return out;
    };
    let done = 0;
    for (let round = 0; round < 60; round++) {
      // a sane table first (some operations succeed), then corruption of a few words or of many
      for (let k = 0; k < 6; k++) {
        space.writeU64(key, BigInt(r() % 24));
        space.writeU64(val, BigInt(round));
        space.writeU32(st + H.CPU * 4, r() % 5); // what the JIT stores before a call (per-CPU tables): 1 + a CPU, or nothing
        ops.update(0, m.addr, key, val, 0);
      }
      const n = round % 3 === 0 ? changing.length : 1 + (r() % 6);
      for (let k = 0; k < n; k++) space.writeU32(changing[r() % changing.length]!, junk() >>> 0);
      const before = outside();
      for (let k = 0; k < 40; k++) {
        space.writeU64(key, BigInt(r() % 24));
        const op = (['lookup', 'update', 'delete'] as const)[r() % 3]!;
        if (r() % 2) space.writeU32(st + H.CPU * 4, junk() >>> 0);
        const res = op === 'update' ? ops.update(0, m.addr, key, val, r() % 3) : ops[op](0, m.addr, key);
        if (op === 'lookup' && res !== 0) assert.ok(res >>> 0 >= pool && res >>> 0 < poolEnd, 'a value address inside the pool');
        done++;
      }
      const after = outside();
      const diff = after.findIndex((b, i) => b !== before[i]);
      assert.equal(diff, -1, `round ${round}: nothing outside the table changed (first difference at ${diff})`);
    }
    assert.equal(done, 60 * 40, 'every operation returned');
    rt.close();
  });
}
