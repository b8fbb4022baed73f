/**
 * LPM tries probed in WebAssembly (src/helpers/lpm-probe.ts): a JIT-compiled
 * program's bpf_map_lookup_elem on a BPF_MAP_TYPE_LPM_TRIE walks the nodes
 * the host API keeps in the address space (memory/lpm-layout.ts) without a
 * call into JS. The JIT is compared with the interpreter (the JS trie) step
 * by step, with hostile prefix lengths; a corrupted trie cannot hold the
 * walk in a loop nor make it answer with anything but a node's value word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime, type Program } from '../src/runtime/runtime.js';
import { assemble } from '../src/isa/asm.js';
import type { MapSpec } from '../src/object/spec.js';
import { BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG } from '../src/maps/flags.js';
import { LpmTrie } from '../src/maps/lpm-trie.js';
import { MapError } from '../src/maps/map.js';
import { lpmProbe } from '../src/helpers/lpm-probe.js';
import { DESC_LPM_STATE, L, N, nodeSlot } from '../src/memory/lpm-layout.js';
import { xorshift32 } from './support/random.js';

const OP_LOOKUP = 0;
const OP_UPDATE = 1;
const OP_DELETE = 2;

function spec(keySize: number, maxEntries: number): MapSpec {
  return { name: 'lpm', type: 'lpm_trie', keySize, valueSize: 4, maxEntries, flags: BPF_F_NO_PREALLOC, pinning: 'none' };
}

/**
 * One map operation per run, from the packet: op at data+0, flags at +1,
 * the key at +8 (copied to the stack at r10-64), the value at +40 (r10-8).
 * r0: the helper's result; a lookup returns the value's u32, or 0xdead when absent.
 */
function opProgram(mapId: number, keySize: number): string {
  const copy = (from: number, to: number, n: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(`r1 = *(u8 *)(r6 +${from + i})`, `*(u8 *)(r10 ${to + i}) = r1`);
    return out;
  };
  return [
    'r6 = *(u32 *)(r1 +0)',
    'r7 = *(u32 *)(r1 +4)',
    'r2 = r6',
    'r2 += 48',
    'if r2 > r7 goto bad',
    ...copy(8, -64, keySize),
    ...copy(40, -8, 4),
    'r8 = *(u8 *)(r6 +0)',
    'r9 = *(u8 *)(r6 +1)',
    'r2 = r10',
    'r2 += -64',
    `r1 = map[fd:${mapId}] ll`,
    'if r8 == 0 goto lookup',
    'if r8 == 1 goto update',
    'call 3',
    'exit',
    'lookup:',
    'call 1',
    'if r0 == 0 goto miss',
    'r0 = *(u32 *)(r0 +0)',
    'exit',
    'miss:',
    'r0 = 0xdead',
    'exit',
    'update:',
    'r3 = r10',
    'r3 += -8',
    'r4 = r9',
    'call 2',
    'exit',
    'bad:',
    'r0 = -1',
    'exit',
  ].join('\n');
}

interface Side {
  rt: Runtime;
  map: LpmTrie;
  prog: Program;
}

async function side(engine: 'jit' | 'interpreter', s: MapSpec): Promise<Side> {
  const rt = new Runtime({ engine });
  const map = rt.createMap(s) as unknown as LpmTrie;
  const prog = await rt.loadProgram({ name: 'op', type: 'xdp', expectedAttachType: 'xdp', insns: assemble(opProgram(map.id, s.keySize), { dialect: 'kernel' }) });
  return { rt, map, prog };
}

function packet(op: number, flags: number, key: Uint8Array, value: number): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = op;
  p[1] = flags;
  p.set(key, 8);
  new DataView(p.buffer).setUint32(40, value, true);
  return p;
}

/** a u32 value's bytes (little-endian) */
const u32v = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const contents = (m: LpmTrie): string[] => [...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`);

/** Count the map's JS program-side `op` calls (its ops table, which the helpers call) while `fn` runs. */
function countJs(map: LpmTrie, op: 'lookupElem' | 'updateElem', fn: () => void): number {
  const ops = map.ops as unknown as Record<string, (...a: number[]) => number>;
  const saved = ops[op]!;
  let calls = 0;
  ops[op] = (...a: number[]): number => {
    calls++;
    return saved(...a);
  };
  try {
    fn();
  } finally {
    ops[op] = saved;
  }
  return calls;
}

// data bytes 1 and 3 (compared a byte at a time; no key bits kept in a local), 4 (one word, its bits
// kept), 5 (a word and a byte), 8 (64 key bits kept), 16 (a slot not a power of two: the node address
// multiplied) and 28 (bits past the kept 64 read from the key)
for (const keySize of [5, 7, 8, 9, 12, 20, 32]) {
  test(`lpm_trie, ${keySize - 4} data bytes: JIT lookups in WebAssembly agree with the interpreter through random updates, deletes and hostile prefix lengths`, async () => {
    const maxEntries = 40;
    const dataSize = keySize - 4;
    const jit = await side('jit', spec(keySize, maxEntries));
    const interp = await side('interpreter', spec(keySize, maxEntries));
    try {
      const r = xorshift32(keySize * 104729);
      // Few distinct leading bytes, so prefixes nest and diverge (intermediate nodes) often.
      const key = (forLookup: boolean): Uint8Array => {
        const k = new Uint8Array(keySize);
        for (let i = 0; i < dataSize; i++) k[4 + i] = i < 2 ? [0x0a, 0x0b, 0x8a, 0xc0][r() % 4]! ^ (r() % 4) : r() & 0xff;
        const roll = r() % 20;
        const plen = roll === 0 ? dataSize * 8 + 1 + (r() % 3) : roll === 1 ? 0xffffffff : roll === 2 ? 0 : forLookup && roll < 10 ? dataSize * 8 : r() % (dataSize * 8 + 1);
        new DataView(k.buffer).setUint32(0, plen, true);
        return k;
      };
      let found = 0;
      let jsLookups = 0;
      let updates = 0;
      let jsUpdates = 0;
      for (let step = 0; step < 1500; step++) {
        const roll = r() % 100;
        if (roll < 4) {
          const k = key(false);
          for (const s of [jit, interp]) {
            try {
              s.map.set(k, u32v(step));
            } catch (e) {
              assert.ok(e instanceof MapError, String(e)); // full, or a prefix length past the data: both sides
            }
          }
          continue;
        }
        const op = roll < 60 ? OP_LOOKUP : roll < 85 ? OP_UPDATE : OP_DELETE;
        const flags = r() % 9 === 0 ? 4 : r() % 3;
        const k = key(op === OP_LOOKUP);
        const p = packet(op, flags, k, r() >>> 0);
        let a = 0;
        const jsUp = countJs(jit.map, 'updateElem', () => (jsLookups += countJs(jit.map, 'lookupElem', () => (a = jit.prog.run({ data: p }).retval))));
        if (op === OP_UPDATE) {
          updates++;
          jsUpdates += jsUp;
        }
        const b = interp.prog.run({ data: p }).retval;
        assert.equal(a, b, `step ${step} op ${op} flags ${flags} key ${hex(k)}`);
        if (op === OP_LOOKUP && a !== 0xdead) found++;
        if (step % 100 === 0) assert.deepEqual(contents(jit.map), contents(interp.map), `step ${step}`);
      }
      assert.deepEqual(contents(jit.map), contents(interp.map));
      assert.ok(found > 50, `lookups found prefixes (${found})`);
      assert.equal(jsLookups, 0, 'no JIT lookup went to the JS trie');
      // replacing a stored prefix's value stays in WebAssembly; new prefixes, bad flags and long prefixes go to JS
      assert.ok(jsUpdates > 0 && jsUpdates < updates, `updates in JS: ${jsUpdates} of ${updates}`);
    } finally {
      jit.rt.close();
      interp.rt.close();
    }
  });
}

test('lpm_trie: the JIT lookup goes on to JS for other map types and the interpreter keeps the JS trie', async () => {
  const interp = await side('interpreter', spec(8, 4));
  try {
    interp.map.set(LpmTrie.key(8, [10, 0, 0, 0]), u32v(5));
    let v = 0;
    const n = countJs(interp.map, 'lookupElem', () => (v = interp.prog.run({ data: packet(OP_LOOKUP, 0, LpmTrie.key(32, [10, 1, 2, 3]), 0) }).retval));
    assert.equal(v, 5);
    assert.equal(n, 1);
  } finally {
    interp.rt.close();
  }
  const rt = new Runtime({ engine: 'jit' });
  try {
    const space = rt.space;
    const hash = rt.createMap({ name: 'h', type: 'hash', keySize: 8, valueSize: 4, maxEntries: 4, flags: BPF_F_NO_PREALLOC, pinning: 'none' }) as unknown as { addr: number };
    const calls: number[][] = [];
    const lookup = lpmProbe('lookup', space.memory, (...a) => (calls.push(a), 77));
    assert.equal(lookup(3, hash.addr, space.alloc(8)), 77, 'a map without trie state goes to the fallback');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], 3);
    assert.equal(calls[0]![1], hash.addr);
  } finally {
    rt.close();
  }
});

test('lpm_trie: BPF_F_RDONLY_PROG: a program\'s update is EPERM in both engines, and NOEXIST on a stored prefix EEXIST', async () => {
  for (const engine of ['jit', 'interpreter'] as const) {
    const ro = await side(engine, { ...spec(8, 4), flags: BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG });
    const rw = await side(engine, spec(8, 4));
    try {
      const k = LpmTrie.key(24, [10, 1, 2, 0]);
      ro.map.set(k, u32v(1));
      rw.map.set(k, u32v(1));
      assert.equal(ro.prog.run({ data: packet(OP_UPDATE, 0, k, 7) }).retval | 0, -1, `${engine}: EPERM`);
      assert.deepEqual([...ro.map.get(k)!], [1, 0, 0, 0]);
      assert.equal(rw.prog.run({ data: packet(OP_UPDATE, 1, k, 7) }).retval | 0, -17, `${engine}: EEXIST`);
      assert.equal(rw.prog.run({ data: packet(OP_UPDATE, 2, k, 7) }).retval, 0);
      assert.deepEqual([...rw.map.get(k)!], [7, 0, 0, 0]);
      assert.equal(rw.prog.run({ data: packet(OP_UPDATE, 2, LpmTrie.key(23, [10, 1, 2, 0]), 7) }).retval | 0, -2, `${engine}: ENOENT`);
    } finally {
      ro.rt.close();
      rw.rt.close();
    }
  }
});

test('lpm_trie: the host API refuses keys of the wrong size and prefix lengths past the data, with typed errors', () => {
  const rt = new Runtime({ engine: 'jit' });
  try {
    const m = rt.createMap(spec(8, 4)) as unknown as LpmTrie;
    const isErr = (errno: string) => (e: unknown) => e instanceof MapError && e.errno === errno;
    assert.throws(() => m.set(new Uint8Array(7), u32v(1)), MapError);
    assert.throws(() => m.set(new Uint8Array(9), u32v(1)), MapError);
    assert.throws(() => m.get(new Uint8Array(3)), MapError);
    assert.throws(() => m.set(LpmTrie.key(33, [1, 2, 3, 4]), u32v(1)), isErr('EINVAL'));
    assert.throws(() => m.set(LpmTrie.key(0xffffffff, [1, 2, 3, 4]), u32v(1)), isErr('EINVAL'));
    assert.throws(() => m.delete(LpmTrie.key(40, [1, 2, 3, 4])), isErr('EINVAL'));
    assert.equal(m.get(LpmTrie.key(33, [1, 2, 3, 4])), undefined);
    m.set(LpmTrie.key(0, [0, 0, 0, 0]), u32v(9));
    assert.deepEqual([...m.get(LpmTrie.key(32, [1, 2, 3, 4]))!], [9, 0, 0, 0]);
    assert.equal(m.get(LpmTrie.key(33, [1, 2, 3, 4])), undefined, 'a key past the data matches nothing, not even /0');
  } finally {
    rt.close();
  }
});

test('lpm_trie: the pool grows (and moves) under a program\'s lookups; close frees every block', async () => {
  const jit = await side('jit', spec(8, 300));
  try {
    const before = jit.rt.space.allocation();
    for (let i = 0; i < 300; i++) jit.map.set(LpmTrie.key(16 + (i % 17), [10, i & 255, (i * 7) & 255, 0]), u32v(i));
    assert.equal(jit.map.size, 300);
    for (let i = 0; i < 300; i += 7) {
      const want = jit.map.get(LpmTrie.key(32, [10, i & 255, (i * 7) & 255, 5]));
      const got = jit.prog.run({ data: packet(OP_LOOKUP, 0, LpmTrie.key(32, [10, i & 255, (i * 7) & 255, 5]), 0) }).retval;
      assert.equal(got, want ? new DataView(want.buffer).getUint32(0, true) : 0xdead);
    }
    for (const [k] of [...jit.map.entries()]) jit.map.delete(k);
    assert.equal(jit.map.size, 0);
    assert.ok(jit.rt.space.allocation().bytes >= before.bytes);
  } finally {
    jit.rt.close();
  }
});

test('lpm_trie: a corrupted trie neither holds the WebAssembly walk in a loop nor makes it answer outside the nodes\' value words', () => {
  const rt = new Runtime({ engine: 'jit' });
  try {
    const space = rt.space;
    const m = rt.createMap(spec(8, 16)) as unknown as LpmTrie & { addr: number };
    for (let i = 0; i < 16; i++) m.set(LpmTrie.key(8 + i, [10 + (i & 3), i * 16, 0, 0]), u32v(i));
    const st = space.readU32(m.addr + DESC_LPM_STATE);
    const pool = space.readU32(st + L.POOL * 4);
    const cap = space.readU32(st + L.CAP * 4);
    const slot = nodeSlot(4);
    const values = new Set<number>([0]);
    for (let n = 0; n < cap; n++) values.add(space.readU32(pool + n * slot + N.VALUE));
    const key = space.alloc(8);
    const fb = { n: 0 };
    const lookup = lpmProbe('lookup', space.memory, () => (fb.n++, 0));
    const update = lpmProbe('update', space.memory, () => (fb.n++, 0));
    const valAddr = space.alloc(8);
    const r = xorshift32(4242);
    const before = space.u8.slice();
    const poolEnd = pool + cap * slot;
    for (let round = 0; round < 400; round++) {
      // corrupt the changing parts: the root, children (cycles included), prefix lengths, flags
      const n = r() % cap;
      const a = pool + n * slot;
      const what = r() % 4;
      const val = r() % 3 === 0 ? r() >>> 0 : (r() % (cap + 2)) - 1;
      if (what === 0) space.writeU32(st + L.ROOT * 4, val >>> 0);
      else if (what === 1) space.writeU32(a + N.CHILD + (r() & 1) * 4, val >>> 0);
      else if (what === 2) space.writeU32(a + N.PREFIXLEN, r() % 3 === 0 ? r() >>> 0 : r() % 40);
      else space.writeU32(a + N.FLAGS, r() & 1);
      space.write(key, LpmTrie.key(r() % 3 === 0 ? r() >>> 0 : r() % 40, [10 + (r() & 3), r() & 0xf0, r() & 0xff, r() & 0xff]));
      const v = lookup(0, m.addr, key) >>> 0;
      assert.ok(values.has(v), `round ${round}: the answer 0x${v.toString(16)} is a node's value word or 0`);
      space.writeU32(valAddr, round);
      const u = update(0, m.addr, key, valAddr, r() % 3) | 0;
      assert.ok(u === 0 || u === -17, `round ${round}: update gave ${u}`);
    }
    assert.ok(fb.n > 0, 'some updates went on to the fallback');
    // the walks wrote nothing but node data and the nodes' values: else only the test's own corruptions (state, pool, key) changed
    const after = space.u8;
    for (let i = 0; i < before.length; i++) {
      if ((i >= st && i < st + 32) || (i >= pool && i < poolEnd) || (i >= key && i < key + 8) || (i >= valAddr && i < valAddr + 8)) continue;
      if ([...values].some((v) => v !== 0 && i >= v && i < v + 4)) continue;
      if (before[i] !== after[i]) assert.fail(`byte 0x${i.toString(16)} changed`);
    }
  } finally {
    rt.close();
  }
});
